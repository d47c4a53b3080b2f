#!/usr/bin/env bash
# Puts `ims` on the PATH (run by setup.sh, so by `npm start` and `npm test`):
# a symbolic link to this clone's apps/cli/bin/ims.mjs in the global npm bin
# directory ($(npm prefix -g)/bin), else in ~/.local/bin; IMS_BIN_DIR names
# the directory instead. A directory on the PATH is preferred. Idempotent: a
# link that is already right is left alone; a link to another clone is moved
# here; a file that is not a link is never replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
target="$PWD/apps/cli/bin/ims.mjs"

on_path() {
  case ":$PATH:" in
    *":$1:"*) return 0 ;;
  esac
  return 1
}

candidates=()
if [[ -n "${IMS_BIN_DIR:-}" ]]; then
  candidates=("$IMS_BIN_DIR")
else
  prefix="$(npm prefix -g 2>/dev/null || true)"
  if [[ -n "$prefix" ]]; then candidates+=("$prefix/bin"); fi
  if [[ -n "${HOME:-}" ]]; then candidates+=("$HOME/.local/bin"); fi
fi

if ((${#candidates[@]} == 0)); then
  echo "setup: no directory to link ims into; run it as: pnpm ims ..." >&2
  exit 0
fi

# Already linked: nothing to do.
for dir in "${candidates[@]}"; do
  if [[ -L "$dir/ims" && "$(readlink "$dir/ims")" == "$target" ]] && on_path "$dir"; then
    exit 0
  fi
done

# First a writable directory on the PATH, then any writable one.
for pass in path any; do
  for dir in "${candidates[@]}"; do
    if [[ "$pass" == path ]] && ! on_path "$dir"; then continue; fi
    link="$dir/ims"
    if [[ -d "$dir" && -w "$dir" ]] && [[ ! -e "$link" || -L "$link" ]]; then
      was="$(readlink "$link" 2>/dev/null || true)"
      if [[ "$was" != "$target" ]]; then
        ln -sfn "$target" "$link"
        echo "setup: ims is now on the PATH: $link -> $target${was:+ (it was $was)}" >&2
      fi
      if ! on_path "$dir"; then
        echo "setup: add $dir to your PATH to type ims as in the README (or run pnpm ims ...)" >&2
      fi
      exit 0
    fi
  done
done
echo "setup: could not link ims into ${candidates[*]} (not writable, or a file named ims is there); run it as: pnpm ims ..." >&2
