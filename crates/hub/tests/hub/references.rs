use lmc_hub::{HubError, HubRef, Revision, expand_range, is_hub_reference};

#[test]
fn ranges_include_both_ends_as_bash_does() {
    let models = expand_range("hf:connectivity/feather_berts_{0..99}").unwrap();
    assert_eq!(models.len(), 100);
    assert_eq!(models[0], "hf:connectivity/feather_berts_0");
    assert_eq!(models[99], "hf:connectivity/feather_berts_99");
    assert_eq!(expand_range("m{3..1}").unwrap(), ["m3", "m2", "m1"]);
    assert_eq!(expand_range("m{7..7}").unwrap(), ["m7"]);
    assert_eq!(expand_range("m{08..10}").unwrap(), ["m08", "m09", "m10"]);
    assert_eq!(expand_range("m{8..010}").unwrap(), ["m008", "m009", "m010"]);
    assert_eq!(expand_range("hf:a/b").unwrap(), ["hf:a/b"]);
    assert_eq!(
        expand_range("hf:connectivity/bert_ft_qqp-{0..2}@step=25000").unwrap(),
        [
            "hf:connectivity/bert_ft_qqp-0@step=25000",
            "hf:connectivity/bert_ft_qqp-1@step=25000",
            "hf:connectivity/bert_ft_qqp-2@step=25000"
        ]
    );
}

#[test]
fn malformed_ranges_are_refused_naming_the_pattern() {
    for (pattern, reason) in [
        ("m{0..9", "'{' without '}'"),
        ("m0..9}", "'}' without '{'"),
        ("m{0..9}{0..1}", "more than one range"),
        ("m{0...9}", "\".9\" is not a non-negative integer"),
        ("m{-1..3}", "\"-1\" is not a non-negative integer"),
        ("m{a..c}", "\"a\" is not a non-negative integer"),
        ("m{0,1}", "{0,1} is not {A..B}"),
    ] {
        let error = expand_range(pattern).unwrap_err();
        assert!(
            matches!(error, HubError::BadRange { .. }),
            "{pattern}: {error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(pattern) && message.contains(reason),
            "{pattern}: {message}"
        );
    }
}

#[test]
fn references_name_a_repository_and_a_revision() {
    let r = HubRef::parse("hf:connectivity/feather_berts_7").unwrap();
    assert_eq!(
        (r.repo(), r.revision()),
        (
            "connectivity/feather_berts_7",
            &Revision::Named("main".into())
        )
    );
    assert_eq!(r.to_string(), "hf:connectivity/feather_berts_7@main");
    let r = HubRef::parse("hf:bert-base-uncased@refs/pr/1").unwrap();
    assert_eq!(
        (r.repo(), r.revision()),
        ("bert-base-uncased", &Revision::Named("refs/pr/1".into()))
    );
    let r = HubRef::parse("hf:connectivity/bert_ft_qqp-0@step=34110").unwrap();
    assert_eq!(r.revision(), &Revision::Step(34110));
    assert!(is_hub_reference("hf:a/b") && !is_hub_reference("models/a"));
    let population = HubRef::parse_all("hf:connectivity/feather_berts_{0..99}").unwrap();
    assert_eq!(population.len(), 100);
    assert_eq!(population[42].repo(), "connectivity/feather_berts_42");
}

#[test]
fn malformed_references_are_refused_naming_the_reference() {
    for (reference, reason) in [
        ("connectivity/feather_berts_0", "does not start with hf:"),
        ("hf:", "each part of the name has 1 to 96 characters"),
        ("hf:a/b/c", "more than one '/'"),
        ("hf:a b/c", "contains ' '"),
        ("hf:-a/b", "start and end with a letter"),
        ("hf:a--b/c", "contains '--' or '..'"),
        ("hf:a/b@", "the revision after @ is empty"),
        ("hf:a/b@step=x", "step=x is not a step count"),
        ("hf:a/b@step=-3", "step=-3 is not a step count"),
        ("hf:a/b@a..b", "not a valid branch or tag name"),
        ("hf:a/b@x:y", "the revision contains ':'"),
    ] {
        let error = HubRef::parse(reference).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, HubError::BadReference { .. }) && message.contains(reason),
            "{reference}: {message}"
        );
        assert!(message.contains(&format!("{reference:?}")), "{message}");
    }
}
