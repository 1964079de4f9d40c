# Sourced by the scripts: makes sure the Rust pieces Parley needs are there.
# Plugins are WebAssembly components built for wasm32-wasip2.
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
        rustup component add "$component"
    fi
done
