# Sourced by scripts/rustc-wrapper, scripts/check-libtorch.sh and scripts/gpu-bundle.sh: the
# libtorch versions this crate builds against, each with the tch release made for it, and a copy
# of the checkout whose Cargo.lock holds that release. (Cargo.lock, not a Cargo feature, picks
# the binding: torch-sys 0.24 and 0.26 both declare `links = "tch"`, and cargo refuses the two in
# one lockfile even as optional dependencies; see docs/library.md.)

# The supported libtorch versions, the default (what Cargo.lock holds) first.
LIBTORCH_VERSIONS="2.13.0 2.11.0"

# tch_for VERSION: the tch (and torch-sys) release for libtorch VERSION; empty when none.
tch_for() {
    case "$1" in
    2.13.0) echo 0.26.0 ;;
    2.11.0) echo 0.24.0 ;;
    esac
}

# libtorch_for TORCH_SYS_VERSION: the libtorch version that torch-sys release was made for.
libtorch_for() {
    case "$1" in
    0.26.*) echo 2.13.0 ;;
    0.24.*) echo 2.11.0 ;;
    ?*) sed -n 's/^const TORCH_VERSION: &str = "\(.*\)";/\1/p' \
        "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"torch-sys-$1"/build.rs 2>/dev/null | head -1 ;;
    esac
}

# locked_torch_sys LOCKFILE: the torch-sys version LOCKFILE holds; empty when none.
locked_torch_sys() {
    awk '$0 == "name = \"torch-sys\"" { getline; gsub(/version = |"/, ""); print; exit }' "$1" 2>/dev/null
}

# copy_tree ROOT TREE TCH: TREE becomes a fresh copy of ROOT's tracked and untracked (not
# ignored) files, modification times kept so that cargo rebuilds only what changed, with its
# Cargo.lock on tch TCH (torch-sys follows).
copy_tree() {
    local root=$1 tree=$2 tch=$3
    rm -rf "$tree"
    mkdir -p "$tree"
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
    (cd "$tree" && cargo update --quiet -p tch --precise "$tch")
}
