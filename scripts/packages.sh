# Sourced by scripts/test.sh and scripts/serve.sh: what they build. Cargo
# resolves dependency features per selection of packages and targets, so
# both build exactly this selection and share one build: every crate of
# the workspace with its unit tests, integration tests and benchmarks, but
# the plugins and test guests, which build scripts compile to WebAssembly,
# and the fuzz targets, which `cargo fuzz` builds instrumented
# (scripts/fuzz.sh).
packages=(--workspace --all-targets --exclude parley-fuzz)
for guest in skills-router rules-screener mime-normalizer \
    test-router probe-router test-transformer test-screener legacy-router test-driver; do
    packages+=(--exclude "$guest")
done
