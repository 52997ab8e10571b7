#!/usr/bin/env bash
# Provisions the real Triton server the tests talk to: a Python venv at .venv/triton holding the
# pinned peers of scripts/triton/requirements.txt (tritonserver comes inside the nvidia-pytriton
# wheel), and a private Triton backend directory for the Python backend.
#
# Idempotent: stamps (hashes of requirements.txt, the interpreter's version and this script) make a
# second run instant and silent. Concurrent runs (test files run in parallel processes) serialise on
# a lock. The only download is pip's, from the package index pip is configured with.
#
# Writes .venv/triton/triton.json (the paths the launcher needs). Silent when cached; exits non-zero
# with a message on stderr on failure. INFERGATE_PYTHON picks the interpreter (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQUIREMENTS="$ROOT/scripts/triton/requirements.txt"
VENV="$ROOT/.venv/triton"
PYTHON="${INFERGATE_PYTHON:-python3}"

fail() {
  echo "provision.sh: $*" >&2
  exit 1
}

command -v "$PYTHON" >/dev/null || fail "no '$PYTHON' on PATH: Python 3 (with its venv module) is needed to provision tritonserver (Debian: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' ||
  fail "'$PYTHON' is $("$PYTHON" --version 2>&1); Python >= 3.8 is needed"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
  fail "'$PYTHON' lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)"

# Two stamps. .venv-stamp: what the venv's packages were installed from (requirements.txt and the
# interpreter); a change rebuilds the venv from scratch. .provisioned: that, plus this script, which
# prepares the server around the packages (cheap to redo).
hash_of() { sha256sum | cut -d' ' -f1; }
VENV_WANT="$({ cat "$REQUIREMENTS"; "$PYTHON" -c 'import sys; print(sys.version)'; } | hash_of)"
WANT="$({ echo "$VENV_WANT"; cat "${BASH_SOURCE[0]}"; } | hash_of)"
VENV_STAMP="$VENV/.venv-stamp"
STAMP="$VENV/.provisioned"

stamped() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# Fast path, no lock: the stamp matches and what the launcher needs is there.
cached() {
  stamped "$STAMP" "$WANT" && [ -x "$VENV/bin/tritonserver" ] && [ -f "$VENV/triton.json" ]
}
if cached; then
  exit 0
fi

mkdir -p "$ROOT/.venv"
exec 9>"$ROOT/.venv/triton.lock"
if command -v flock >/dev/null; then
  flock 9 || fail "could not lock $ROOT/.venv/triton.lock"
fi
# Another process may have finished provisioning while this one waited for the lock.
if cached; then
  exit 0
fi

if ! stamped "$VENV_STAMP" "$VENV_WANT" || [ ! -x "$VENV/bin/python" ]; then
  echo "provision.sh: creating $VENV (pip install -r scripts/triton/requirements.txt; takes a few minutes)" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || fail "'$PYTHON -m venv $VENV' failed"
  "$VENV/bin/python" -m pip install --quiet --no-input -r "$REQUIREMENTS" >&2 ||
    fail "pip install -r $REQUIREMENTS failed (see pip's message above)"
  echo "$VENV_WANT" >"$VENV_STAMP"
fi

# The server and the Python backend as the wheel ships them.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
TRITON="$SITE/pytriton/tritonserver"
PYVER="$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"
STUB="$TRITON/python_backend_stubs/$PYVER/triton_python_backend_stub"
[ -x "$TRITON/bin/tritonserver" ] || fail "the nvidia-pytriton wheel has no $TRITON/bin/tritonserver"
[ -f "$TRITON/backends/python/libtriton_python.so" ] || fail "the nvidia-pytriton wheel has no Python backend under $TRITON/backends/python"
[ -x "$STUB" ] || fail "the nvidia-pytriton wheel has no Python backend stub for Python $PYVER ($STUB); available: $(ls "$TRITON/python_backend_stubs" 2>/dev/null | tr '\n' ' ')"

# A private backend directory: the wheel's Python backend plus the stub for this interpreter's
# version (the wheel keeps one stub per Python version apart; the backend runs the one beside itself).
# Links, so site-packages stays as pip left it.
BACKENDS="$VENV/triton-backends"
mkdir -p "$BACKENDS/python"
ln -sfn "$TRITON/backends/python/libtriton_python.so" "$BACKENDS/python/libtriton_python.so"
ln -sfn "$TRITON/backends/python/triton_python_backend_utils.py" "$BACKENDS/python/triton_python_backend_utils.py"
ln -sfn "$STUB" "$BACKENDS/python/triton_python_backend_stub"

# The libraries the server and the stub need at run time: the wheel's bundled ones, and the venv's
# own libpython (the stub embeds Python; it must be the interpreter the venv's packages were built for).
PYLIBDIR="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')"
LIBRARY_PATH="$SITE/nvidia_pytriton.libs:$PYLIBDIR"
# ldd names what the dynamic loader would miss: a library, or a glibc too old for the wheel.
for binary in "$TRITON/bin/tritonserver" "$TRITON/backends/python/libtriton_python.so" "$STUB"; do
  missing="$(LD_LIBRARY_PATH="$LIBRARY_PATH" ldd "$binary" 2>&1 | grep 'not found' || true)"
  [ -z "$missing" ] || fail "$binary cannot be loaded on this machine: $missing
  (libpython$PYVER.so missing? Build Python with --enable-shared, e.g. PYTHON_CONFIGURE_OPTS=--enable-shared for pyenv, or install Debian's libpython$PYVER)"
done

# bin/tritonserver: the wheel's server with its environment. exec keeps the pid, so whoever starts
# this script can signal the server itself. The venv's bin/ leads PATH: the embedded Python finds
# the venv (its numpy, onnxruntime) through the python3 it finds there.
cat >"$VENV/bin/tritonserver" <<WRAPPER
#!/bin/sh
# Written by scripts/triton/provision.sh.
export LD_LIBRARY_PATH="$LIBRARY_PATH\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH="$VENV/bin:\$PATH"
exec "$TRITON/bin/tritonserver" "\$@"
WRAPPER
chmod +x "$VENV/bin/tritonserver"

# What the launcher (test/support/triton.ts) reads.
cat >"$VENV/triton.json" <<JSON
{
  "tritonserver": "$VENV/bin/tritonserver",
  "backendDirectory": "$BACKENDS",
  "python": "$VENV/bin/python"
}
JSON

echo "$WANT" >"$STAMP"
echo "provision.sh: tritonserver ready in $VENV" >&2
