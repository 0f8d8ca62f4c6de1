#!/usr/bin/env bash
# Fails, naming the files, when a C++ file of the repository differs from
# what clang-format makes of it (.clang-format). Fix with:
#   clang-format -i $(git ls-files '*.cpp' '*.hpp')
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "check_format: clang-format is not installed (scripts/install-deps.sh)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -name '*.[ch]pp' -not -path './build*')
bad=()
for file in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$file" >/dev/null 2>&1; then bad+=("$file"); fi
done
if [ ${#bad[@]} -ne 0 ]; then
  printf 'not formatted (clang-format -i FILE):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
