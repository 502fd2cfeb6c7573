#!/usr/bin/env bash
# Installs what tests/slurm/cluster.sh needs (Debian's Slurm 22.05 and munge), only when missing.
# Run as root on Debian/Ubuntu. The packages' own services are never started here: cluster.sh
# runs private daemons of its own.
set -euo pipefail

needed=(slurmctld slurmd slurm-client munge)
missing=()
for package in "${needed[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "slurm fixture: packages present ($(slurmctld -V))"
    exit 0
fi

echo "slurm fixture: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep the packages' init scripts from starting the system-wide munged/slurmd/slurmctld: on a
# machine without policy-rc.d they would otherwise try to start on install.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
fi
restore_policy() { if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi; }
trap restore_policy EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "slurm fixture: installed ($(slurmctld -V), munge $(dpkg-query -W -f='${Version}' munge))"
