//! BERT in burn, one struct per Hugging Face module so that the struct tree mirrors the
//! checkpoint's key tree: `bert.encoder.layer.3.attention.self.query.weight` is
//! `model.bert.encoder.layers[3].attention.query.weight`.

use burn::module::{Module, Param};
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::{gelu, log_softmax, softmax};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Int, Tensor, TensorData};

use crate::checkpoint::{HostTensor, Init, ParamSource};
use crate::config::BertConfig;
use crate::init::SplitMix64;
use crate::precision::{DropoutMasks, Precision, linear, matmul};

/// Score given to attention keys that are padding: exp() of it underflows to exactly 0, so a
/// padded position receives zero weight and padding cannot change a sequence's outputs.
const MASKED_SCORE: f32 = -1.0e9;

/// One tokenized batch, right-padded: `[batch, seq]` each.
#[derive(Debug, Clone)]
pub struct BertInput<B: Backend> {
    /// WordPiece ids.
    pub input_ids: Tensor<B, 2, Int>,
    /// Segment of each token (0 for the first sentence, 1 for the second).
    pub token_type_ids: Tensor<B, 2, Int>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<B, 2, Int>,
}

impl<B: Backend> BertInput<B> {
    /// The rows `range` of this batch.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            input_ids: self.input_ids.clone().slice([range.clone()]),
            token_type_ids: self.token_type_ids.clone().slice([range.clone()]),
            attention_mask: self.attention_mask.clone().slice([range]),
        }
    }

    /// Builds a batch from host rows (all of length `seq`), e.g. a tokenizer's output.
    pub fn from_rows(
        input_ids: &[Vec<i64>],
        token_type_ids: &[Vec<i64>],
        attention_mask: &[Vec<i64>],
        device: &B::Device,
    ) -> Self {
        let batch = input_ids.len();
        let seq = input_ids.first().map_or(0, Vec::len);
        let to_tensor = |rows: &[Vec<i64>]| {
            let flat: Vec<i64> = rows.iter().flatten().copied().collect();
            Tensor::<B, 2, Int>::from_data(TensorData::new(flat, [batch, seq]), device)
        };
        Self {
            input_ids: to_tensor(input_ids),
            token_type_ids: to_tensor(token_type_ids),
            attention_mask: to_tensor(attention_mask),
        }
    }
}

/// Everything the classifier computes, for parity checks and feature extraction.
#[derive(Debug, Clone)]
pub struct BertOutputs<B: Backend> {
    /// `[batch, seq, hidden]`: the last encoder layer.
    pub last_hidden_state: Tensor<B, 3>,
    /// `[batch, hidden]`: tanh(dense(first token)).
    pub pooler_output: Tensor<B, 2>,
    /// `[batch, num_labels]`: classifier scores.
    pub logits: Tensor<B, 2>,
}

/// Builds modules from a [`ParamSource`], one Hugging Face key at a time.
pub(crate) struct Builder<'a, B: Backend> {
    pub(crate) source: &'a mut ParamSource,
    pub(crate) device: &'a B::Device,
}

impl<B: Backend> Builder<'_, B> {
    fn tensor<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        init: Init,
    ) -> Tensor<B, D> {
        let values = self.source.take(name, &shape, init);
        Tensor::from_data(TensorData::new(values, shape), self.device)
    }

    fn linear(&mut self, prefix: &str, d_input: usize, d_output: usize) -> Linear<B> {
        // Hugging Face stores [out, in]; burn's Linear multiplies by [in, out]. The transpose is
        // done on the host so that the weight is contiguous, as it is after any update: a
        // strided view would take a different matmul path and round differently, and a model
        // reloaded from a checkpoint would not continue training bit for bit.
        let name = format!("{prefix}.weight");
        let values = self.source.take(&name, &[d_output, d_input], Init::Normal);
        let mut transposed = vec![0.0; values.len()];
        for (row, chunk) in values.chunks_exact(d_input).enumerate() {
            for (column, value) in chunk.iter().enumerate() {
                transposed[column * d_output + row] = *value;
            }
        }
        let weight = Tensor::from_data(
            TensorData::new(transposed, [d_input, d_output]),
            self.device,
        );
        let bias = self.tensor(&format!("{prefix}.bias"), [d_output], Init::Zeros);
        Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        }
    }

    fn layer_norm(&mut self, prefix: &str, size: usize, epsilon: f64) -> LayerNorm<B> {
        let mut norm = LayerNormConfig::new(size)
            .with_epsilon(epsilon)
            .init(self.device);
        norm.gamma =
            Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [size], Init::Ones));
        norm.beta = Some(Param::from_tensor(self.tensor(
            &format!("{prefix}.bias"),
            [size],
            Init::Zeros,
        )));
        norm
    }

    fn embedding(&mut self, name: &str, count: usize, size: usize) -> Embedding<B> {
        Embedding {
            weight: Param::from_tensor(self.tensor(name, [count, size], Init::Normal)),
        }
    }
}

/// Receives every parameter under its Hugging Face name. `transposed` is true for linear
/// weights, which burn stores `[in, out]` and Hugging Face `[out, in]`.
trait ParamVisitor<B: Backend> {
    fn visit<const D: usize>(&mut self, name: String, value: Tensor<B, D>, transposed: bool);

    fn linear(&mut self, prefix: &str, linear: &Linear<B>) {
        self.visit(format!("{prefix}.weight"), linear.weight.val(), true);
        if let Some(bias) = &linear.bias {
            self.visit(format!("{prefix}.bias"), bias.val(), false);
        }
    }

    fn layer_norm(&mut self, prefix: &str, norm: &LayerNorm<B>) {
        self.visit(format!("{prefix}.weight"), norm.gamma.val(), false);
        if let Some(beta) = &norm.beta {
            self.visit(format!("{prefix}.bias"), beta.val(), false);
        }
    }
}

fn host_tensor<B: Backend, const D: usize>(tensor: Tensor<B, D>, transposed: bool) -> HostTensor {
    let tensor = if transposed {
        tensor.transpose()
    } else {
        tensor
    };
    let data = tensor.into_data().convert::<f32>();
    let shape = data.shape.to_vec();
    let values = data.into_vec::<f32>().expect("converted to f32 just above");
    HostTensor::new(shape, values)
}

/// Collects parameter values in Hugging Face layout.
struct ValueCollector(Vec<(String, HostTensor)>);

impl<B: Backend> ParamVisitor<B> for ValueCollector {
    fn visit<const D: usize>(&mut self, name: String, value: Tensor<B, D>, transposed: bool) {
        self.0.push((name, host_tensor(value, transposed)));
    }
}

/// Collects the gradients of parameters in Hugging Face layout.
struct GradientCollector<'a, B: AutodiffBackend> {
    gradients: &'a B::Gradients,
    out: Vec<(String, HostTensor)>,
}

impl<B: AutodiffBackend> ParamVisitor<B> for GradientCollector<'_, B> {
    fn visit<const D: usize>(&mut self, name: String, value: Tensor<B, D>, transposed: bool) {
        if let Some(gradient) = value.grad(self.gradients) {
            self.out.push((name, host_tensor(gradient, transposed)));
        }
    }
}

/// The generator that dropout masks are drawn from in one training forward pass
/// ([`BertClassifier::forward_train`]).
///
/// With [`DropoutMasks::Host`], masks are drawn on the host from this stream alone, so a pass is
/// a function of the stream's seed: passes running at the same time on different threads stay
/// deterministic, which burn's one generator per process cannot give, and every backend gets
/// the same masks. With [`DropoutMasks::Device`], the first mask of the pass seeds the backend's
/// generator from this stream and every mask is drawn on the device: a pass is then a function
/// of the seed on one backend, as long as no other pass draws from that generator at the same
/// time ([`crate::batch_gradients`] runs such slices one after the other). A kept activation is
/// scaled by 1 / (1 − p), as in PyTorch.
#[derive(Debug, Clone)]
pub struct DropoutStream {
    rng: SplitMix64,
    masks: DropoutMasks,
    device_seeded: bool,
}

impl DropoutStream {
    /// A stream seeded with `seed` that draws masks on the host.
    pub fn new(seed: u64) -> Self {
        Self::with_masks(seed, DropoutMasks::Host)
    }

    /// A stream seeded with `seed` that draws masks where `masks` says.
    pub fn with_masks(seed: u64, masks: DropoutMasks) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            masks,
            device_seeded: false,
        }
    }

    /// Where this stream's masks are drawn.
    pub fn masks(&self) -> DropoutMasks {
        self.masks
    }

    /// `x` with each element zeroed with probability `prob` and the others scaled by
    /// 1 / (1 − `prob`); `x` itself when `prob` is 0.
    pub fn apply<B: Backend, const D: usize>(
        &mut self,
        x: Tensor<B, D>,
        prob: f64,
    ) -> Tensor<B, D> {
        if prob <= 0.0 {
            return x;
        }
        let shape = x.dims();
        let scale = (1.0 / (1.0 - prob)) as f32;
        let device = x.device();
        if self.masks == DropoutMasks::Device {
            if !self.device_seeded {
                B::seed(&device, self.rng.next_u64());
                self.device_seeded = true;
            }
            // 1 with probability 1 − prob, then scaled: one random kernel and one product.
            let kept = Tensor::<B, D>::random(shape, Distribution::Bernoulli(1.0 - prob), &device);
            return x * kept.mul_scalar(scale);
        }
        let count: usize = shape.iter().product();
        // An element is kept when a uniform 32-bit draw is at least prob · 2^32.
        let threshold = (prob * 4_294_967_296.0) as u64;
        let keep = |draw: u64| if draw >= threshold { scale } else { 0.0 };
        let mut mask = Vec::with_capacity(count);
        while mask.len() + 1 < count {
            let bits = self.rng.next_u64();
            mask.push(keep(bits & 0xffff_ffff));
            mask.push(keep(bits >> 32));
        }
        if mask.len() < count {
            mask.push(keep(self.rng.next_u64() & 0xffff_ffff));
        }
        let mask = Tensor::<B, D>::from_data(TensorData::new(mask, shape), &device);
        x * mask
    }
}

/// Applies dropout when a training pass supplies a stream; inference passes give `None`.
fn dropout<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    prob: f64,
    stream: Option<&mut DropoutStream>,
) -> Tensor<B, D> {
    match stream {
        Some(stream) => stream.apply(x, prob),
        None => x,
    }
}

/// Word, position and token-type embeddings, summed and normalised.
#[derive(Module, Debug)]
pub struct BertEmbeddings<B: Backend> {
    word_embeddings: Embedding<B>,
    position_embeddings: Embedding<B>,
    token_type_embeddings: Embedding<B>,
    layer_norm: LayerNorm<B>,
    dropout: f64,
}

impl<B: Backend> BertEmbeddings<B> {
    fn build(b: &mut Builder<B>, c: &BertConfig, p: &str) -> Self {
        Self {
            word_embeddings: b.embedding(
                &format!("{p}.word_embeddings.weight"),
                c.vocab_size,
                c.hidden_size,
            ),
            position_embeddings: b.embedding(
                &format!("{p}.position_embeddings.weight"),
                c.max_position_embeddings,
                c.hidden_size,
            ),
            token_type_embeddings: b.embedding(
                &format!("{p}.token_type_embeddings.weight"),
                c.type_vocab_size,
                c.hidden_size,
            ),
            layer_norm: b.layer_norm(&format!("{p}.LayerNorm"), c.hidden_size, c.layer_norm_eps),
            dropout: c.hidden_dropout_prob,
        }
    }

    fn export<V: ParamVisitor<B>>(&self, e: &mut V, p: &str) {
        e.visit(
            format!("{p}.word_embeddings.weight"),
            self.word_embeddings.weight.val(),
            false,
        );
        e.visit(
            format!("{p}.position_embeddings.weight"),
            self.position_embeddings.weight.val(),
            false,
        );
        e.visit(
            format!("{p}.token_type_embeddings.weight"),
            self.token_type_embeddings.weight.val(),
            false,
        );
        e.layer_norm(&format!("{p}.LayerNorm"), &self.layer_norm);
    }

    fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
        stream: Option<&mut DropoutStream>,
    ) -> Tensor<B, 2> {
        let [batch, seq] = input_ids.dims();
        let positions = Tensor::<B, 1, Int>::arange(0..seq as i64, &input_ids.device())
            .reshape([1, seq])
            .expand([batch, seq]);
        let sum = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.forward(positions)
            + self.token_type_embeddings.forward(token_type_ids);
        let width = sum.dims()[2];
        let tokens = sum.reshape([batch * seq, width]);
        dropout(self.layer_norm.forward(tokens), self.dropout, stream)
    }
}

/// Multi-head self-attention with its output projection, residual and LayerNorm
/// (Hugging Face's `attention.self` and `attention.output`).
#[derive(Module, Debug)]
pub struct BertAttention<B: Backend> {
    query: Linear<B>,
    key: Linear<B>,
    value: Linear<B>,
    output: Linear<B>,
    layer_norm: LayerNorm<B>,
    probs_dropout: f64,
    output_dropout: f64,
    num_heads: usize,
    head_dim: usize,
}

impl<B: Backend> BertAttention<B> {
    fn build(b: &mut Builder<B>, c: &BertConfig, p: &str) -> Self {
        let h = c.hidden_size;
        Self {
            query: b.linear(&format!("{p}.self.query"), h, h),
            key: b.linear(&format!("{p}.self.key"), h, h),
            value: b.linear(&format!("{p}.self.value"), h, h),
            output: b.linear(&format!("{p}.output.dense"), h, h),
            layer_norm: b.layer_norm(&format!("{p}.output.LayerNorm"), h, c.layer_norm_eps),
            probs_dropout: c.attention_probs_dropout_prob,
            output_dropout: c.hidden_dropout_prob,
            num_heads: c.num_attention_heads,
            head_dim: c.head_dim(),
        }
    }

    fn export<V: ParamVisitor<B>>(&self, e: &mut V, p: &str) {
        e.linear(&format!("{p}.self.query"), &self.query);
        e.linear(&format!("{p}.self.key"), &self.key);
        e.linear(&format!("{p}.self.value"), &self.value);
        e.linear(&format!("{p}.output.dense"), &self.output);
        e.layer_norm(&format!("{p}.output.LayerNorm"), &self.layer_norm);
    }

    /// `hidden` is `[batch · seq, width]`; `mask_bias` is `[batch, heads, seq, seq]`: 0 for real
    /// keys, [`MASKED_SCORE`] for padding.
    fn forward(
        &self,
        hidden: Tensor<B, 2>,
        mask_bias: Tensor<B, 4>,
        mut stream: Option<&mut DropoutStream>,
        precision: Precision,
    ) -> Tensor<B, 2> {
        let [batch, _, seq, _] = mask_bias.dims();
        let [tokens, width] = hidden.dims();
        let heads = |x: Tensor<B, 2>| {
            x.reshape([batch, seq, self.num_heads, self.head_dim])
                .swap_dims(1, 2)
        };
        let query = heads(linear(&self.query, hidden.clone(), precision));
        let key = heads(linear(&self.key, hidden.clone(), precision));
        let value = heads(linear(&self.value, hidden.clone(), precision));
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = matmul(query, key.transpose(), precision) * scale + mask_bias;
        let probs = dropout(
            softmax(scores, 3),
            self.probs_dropout,
            stream.as_deref_mut(),
        );
        let context = matmul(probs, value, precision)
            .swap_dims(1, 2)
            .reshape([tokens, width]);
        let projected = dropout(
            linear(&self.output, context, precision),
            self.output_dropout,
            stream,
        );
        self.layer_norm.forward(projected + hidden)
    }
}

/// One transformer layer: attention, then the GELU feed-forward block with residual and LayerNorm.
#[derive(Module, Debug)]
pub struct BertLayer<B: Backend> {
    attention: BertAttention<B>,
    intermediate: Linear<B>,
    output: Linear<B>,
    layer_norm: LayerNorm<B>,
    dropout: f64,
}

impl<B: Backend> BertLayer<B> {
    fn build(b: &mut Builder<B>, c: &BertConfig, p: &str) -> Self {
        Self {
            attention: BertAttention::build(b, c, &format!("{p}.attention")),
            intermediate: b.linear(
                &format!("{p}.intermediate.dense"),
                c.hidden_size,
                c.intermediate_size,
            ),
            output: b.linear(
                &format!("{p}.output.dense"),
                c.intermediate_size,
                c.hidden_size,
            ),
            layer_norm: b.layer_norm(
                &format!("{p}.output.LayerNorm"),
                c.hidden_size,
                c.layer_norm_eps,
            ),
            dropout: c.hidden_dropout_prob,
        }
    }

    fn export<V: ParamVisitor<B>>(&self, e: &mut V, p: &str) {
        self.attention.export(e, &format!("{p}.attention"));
        e.linear(&format!("{p}.intermediate.dense"), &self.intermediate);
        e.linear(&format!("{p}.output.dense"), &self.output);
        e.layer_norm(&format!("{p}.output.LayerNorm"), &self.layer_norm);
    }

    /// `hidden` is `[batch · seq, width]`, as in [`BertAttention::forward`].
    fn forward(
        &self,
        hidden: Tensor<B, 2>,
        mask_bias: Tensor<B, 4>,
        mut stream: Option<&mut DropoutStream>,
        precision: Precision,
    ) -> Tensor<B, 2> {
        let attended = self
            .attention
            .forward(hidden, mask_bias, stream.as_deref_mut(), precision);
        let expanded = gelu(linear(&self.intermediate, attended.clone(), precision));
        let projected = dropout(
            linear(&self.output, expanded, precision),
            self.dropout,
            stream,
        );
        self.layer_norm.forward(projected + attended)
    }
}

/// The BERT encoder: embeddings, layers and pooler (Hugging Face's `BertModel`).
#[derive(Module, Debug)]
pub struct Bert<B: Backend> {
    embeddings: BertEmbeddings<B>,
    layers: Vec<BertLayer<B>>,
    pooler: Linear<B>,
    /// How the matrix products compute (not a parameter; [`Precision::F32`] when built).
    #[module(skip)]
    precision: Precision,
}

impl<B: Backend> Bert<B> {
    pub(crate) fn build(b: &mut Builder<B>, c: &BertConfig) -> Self {
        Self {
            embeddings: BertEmbeddings::build(b, c, "bert.embeddings"),
            layers: (0..c.num_hidden_layers)
                .map(|i| BertLayer::build(b, c, &format!("bert.encoder.layer.{i}")))
                .collect(),
            pooler: b.linear("bert.pooler.dense", c.hidden_size, c.hidden_size),
            precision: Precision::F32,
        }
    }

    fn export<V: ParamVisitor<B>>(&self, e: &mut V) {
        self.embeddings.export(e, "bert.embeddings");
        for (i, layer) in self.layers.iter().enumerate() {
            layer.export(e, &format!("bert.encoder.layer.{i}"));
        }
        e.linear("bert.pooler.dense", &self.pooler);
    }

    /// The last hidden state `[batch, seq, hidden]` and the pooled output `[batch, hidden]`,
    /// without dropout.
    pub fn forward(&self, input: BertInput<B>) -> (Tensor<B, 3>, Tensor<B, 2>) {
        self.forward_with(input, None)
    }

    fn forward_with(
        &self,
        input: BertInput<B>,
        mut stream: Option<&mut DropoutStream>,
    ) -> (Tensor<B, 3>, Tensor<B, 2>) {
        let [batch, seq] = input.attention_mask.dims();
        let heads = self
            .layers
            .first()
            .map_or(1, |layer| layer.attention.num_heads);
        // Materialised once at the scores' full shape `[batch, heads, seq, seq]`: every layer's
        // `scores + mask_bias` is then a same-shape add, which flex runs as one SIMD pass; a
        // broadcast `[batch, 1, 1, seq]` operand fell back to its element-by-element iterator.
        let padding = input
            .attention_mask
            .equal_elem(0)
            .float()
            .reshape([batch, 1, 1, seq])
            .repeat_dim(2, seq)
            .repeat_dim(1, heads);
        let mask_bias = padding * MASKED_SCORE;
        // The encoder keeps hidden states as `[batch · seq, width]`, so that every linear layer
        // is one 2-D matrix product: burn's backward of a 3-D linear computes one weight
        // gradient per example and then sums them.
        let mut hidden =
            self.embeddings
                .forward(input.input_ids, input.token_type_ids, stream.as_deref_mut());
        for layer in &self.layers {
            hidden = layer.forward(
                hidden,
                mask_bias.clone(),
                stream.as_deref_mut(),
                self.precision,
            );
        }
        let width = hidden.dims()[1];
        let hidden = hidden.reshape([batch, seq, width]);
        let first_token = hidden
            .clone()
            .slice([0..batch, 0..1, 0..width])
            .reshape([batch, width]);
        let pooled = linear(&self.pooler, first_token, self.precision).tanh();
        (hidden, pooled)
    }
}

/// BERT with a sequence-classification head on the pooled `[CLS]` output, as Hugging Face's
/// `BertForSequenceClassification`.
#[derive(Module, Debug)]
pub struct BertClassifier<B: Backend> {
    bert: Bert<B>,
    dropout: f64,
    classifier: Linear<B>,
    num_labels: usize,
}

impl<B: Backend> BertClassifier<B> {
    pub(crate) fn build(b: &mut Builder<B>, c: &BertConfig, num_labels: usize) -> Self {
        Self {
            bert: Bert::build(b, c),
            dropout: c.classifier_dropout_prob(),
            classifier: b.linear("classifier", c.hidden_size, num_labels),
            num_labels,
        }
    }

    /// Number of classes the head predicts.
    pub fn num_labels(&self) -> usize {
        self.num_labels
    }

    /// The encoder without its head.
    pub fn encoder(&self) -> &Bert<B> {
        &self.bert
    }

    /// This model computing its matrix products in `precision` (the parameters stay f32).
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.bert.precision = precision;
        self
    }

    /// How the model's matrix products compute.
    pub fn precision(&self) -> Precision {
        self.bert.precision
    }

    /// Class scores `[batch, num_labels]`, without dropout (inference).
    pub fn forward(&self, input: BertInput<B>) -> Tensor<B, 2> {
        let (_, pooled) = self.bert.forward(input);
        linear(&self.classifier, pooled, self.bert.precision)
    }

    /// Class scores `[batch, num_labels]` with the configuration's dropout, masks drawn from
    /// `stream` (training).
    pub fn forward_train(&self, input: BertInput<B>, stream: &mut DropoutStream) -> Tensor<B, 2> {
        let (_, pooled) = self.bert.forward_with(input, Some(&mut *stream));
        let pooled = stream.apply(pooled, self.dropout);
        linear(&self.classifier, pooled, self.bert.precision)
    }

    /// Hidden states, pooled output and logits of one batch, without dropout.
    pub fn forward_outputs(&self, input: BertInput<B>) -> BertOutputs<B> {
        let (last_hidden_state, pooler_output) = self.bert.forward(input);
        let logits = linear(&self.classifier, pooler_output.clone(), self.bert.precision);
        BertOutputs {
            last_hidden_state,
            pooler_output,
            logits,
        }
    }

    /// Every parameter under its Hugging Face name and layout (linear weights `[out, in]`), in
    /// the order of the module tree.
    pub fn hf_parameters(&self) -> Vec<(String, HostTensor)> {
        let mut collector = ValueCollector(Vec::new());
        self.visit_parameters(&mut collector);
        collector.0
    }

    fn visit_parameters<V: ParamVisitor<B>>(&self, visitor: &mut V) {
        self.bert.export(visitor);
        visitor.linear("classifier", &self.classifier);
    }
}

impl<B: AutodiffBackend> BertClassifier<B> {
    /// The gradient of every parameter that has one, under its Hugging Face name and layout.
    pub fn hf_gradients(&self, gradients: &B::Gradients) -> Vec<(String, HostTensor)> {
        let mut collector = GradientCollector {
            gradients,
            out: Vec::new(),
        };
        self.visit_parameters(&mut collector);
        collector.out
    }
}

/// Per-example cross-entropy `[batch]` of `logits` `[batch, classes]` against class `labels`.
pub fn cross_entropy_per_example<B: Backend>(
    logits: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
) -> Tensor<B, 1> {
    let [batch, _] = logits.dims();
    let log_probs = log_softmax(logits, 1);
    log_probs
        .gather(1, labels.reshape([batch, 1]))
        .reshape([batch])
        .neg()
}

/// Mean cross-entropy (a one-element tensor) of `logits` against class `labels`.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    cross_entropy_per_example(logits, labels).mean()
}
