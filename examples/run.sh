#!/usr/bin/env bash
# The main job: build the example plugins from source, then run the two
# example hosts over them, and call the default-world `hello` plugin with
# the wasmplug CLI:
#
# - examples/host, a text-filter host serving its API at three versions,
#   over every filter plugin, each in its own folder under
#   examples/host/plugins with its manifest;
# - sqlplug, an SQLite database whose SQL functions are plugins (Rust, and
#   Python when componentize-py is installed: ./scripts/toolchains.sh), on
#   the sample data in examples/sqlplug/data;
# - the linter of docs/host.md, whose checks are plugins (Rust, and Python
#   likewise), on examples/linter/sample.
#
# Extra arguments go to the filter host (the text to transform).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
filters="$root/examples/host/plugins"
functions="$root/examples/sqlplug/plugins"
checks="$root/examples/linter/checks"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# From inside the plugins' workspace, so its .cargo/config.toml applies.
(cd "$root/examples/plugins" &&
    cargo build --release --quiet --target wasm32-wasip2 --target-dir "$target/example-guests")
cargo build --quiet -p wasmplug-cli -p example-host -p sqlplug -p linter
bin="$target/debug"

# Each plugin in a folder of its own, beside its manifest, in the folder of
# the host whose world it implements.
built="$target/example-guests/wasm32-wasip2/release"
for manifest in "$root"/examples/plugins/*/plugin.toml; do
    name="$(basename "$(dirname "$manifest")")"
    case "$(grep '^world = ' "$manifest")" in
    *'"example:filters/'*) dir="$filters/$name" ;;
    *'"sqlplug:functions/'*) dir="$functions/$name" ;;
    *'"lint:host/'*) dir="$checks/$name" ;;
    *) continue ;;
    esac
    [ -e "$built/${name//-/_}.wasm" ] || continue
    mkdir -p "$dir"
    cp "$manifest" "$dir/plugin.toml"
    cp "$built/${name//-/_}.wasm" "$dir/$name.wasm"
done
# The Python plugins, built by `wasmplug build` when their toolchain is here.
python="yes"
for plugin in "$functions/regexp" "$checks/line-length"; do
    name="$(basename "$plugin")"
    if "$bin/wasmplug" build --project "$root/examples/plugins/$name" -o "$plugin/" \
        2>"$target/$name-build.log" >/dev/null; then
        continue
    fi
    python=""
    rm -rf "$plugin"
    echo "(the Python plugin $name is skipped: $(tail -1 "$target/$name-build.log"))"
done

echo "== example host: every plugin in $filters transforms the text"
"$bin/example-host" "$filters" "$@"

echo "== sqlplug: SQL functions from $functions, on examples/sqlplug/data/books.sql"
queries=(
    "SELECT author, count(*) AS books, median(pages) AS median_pages
       FROM books GROUP BY author HAVING books >= 3 ORDER BY median_pages DESC"
)
if [ -n "$python" ]; then
    queries+=("SELECT slugify(title) AS slug, year FROM books
                WHERE title REGEXP '^The [A-Z][a-z]+ of' ORDER BY year")
else
    queries+=("SELECT slugify(title) AS slug, year FROM books WHERE year < 1955 ORDER BY year")
fi
"$bin/sqlplug" --plugins "$functions" :memory: \
    ".read $root/examples/sqlplug/data/books.sql" "${queries[@]}"

echo "== linter: the checks in $checks, on examples/linter/sample/greet.rs"
# Findings are not failures here: the sample is there to have some.
(cd "$root" && "$bin/linter" --plugins "$checks" --config examples/linter/sample/linter.toml \
    examples/linter/sample/greet.rs) || true

echo "== wasmplug call: the default-world hello plugin"
"$bin/wasmplug" call --manifest "$root/examples/plugins/hello/plugin.toml" "$built/hello.wasm" run '"world"'
