#!/usr/bin/env python3
"""Triton-client compatibility check: Triton's own Python clients against one server.

Runs tritonclient.grpc and tritonclient.http (the pinned versions of requirements.txt) against a
server speaking Triton's protocol and prints ONE JSON report on stdout. The same script run against
a real tritonserver and against infergate gives two reports that compare check by check: what
legitimately differs between two servers (their name and version, the extensions a server offers
beyond those exercised here, its platform/backend, timings, shared-memory keys, error wording) is
kept out of each check's compared `value` and put in its `info`.

    .venv/triton/bin/python scripts/triton/client_compat.py \
        --grpc 127.0.0.1:8001 --http 127.0.0.1:8000 --model fraud

Report: {"target", "model", "rows", "checks": {name: {"ok", "value", "info"?, "error"?}},
"scores": {path: [P(fraud) per row]}, "shm_keys", "summary": {"passed", "failed"}}. `rows[path]` is the
[first, end) slice of golden.json's `tensors` that infer path scored, so scores line up with
golden.json's `scores`. Exit status: 0 when every check passed, 1 when one failed (the report is
printed either way), 2 for bad arguments or an unreadable golden file.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

INPUT = "features"
OUTPUT = "probabilities"
WIDTH = 40
OUTPUT_WIDTH = 2
# Column of OUTPUT that is the score: P(fraud).
SCORE_COLUMN = 1
MAX_ROWS = 256
# The extensions this script exercises: a compatible server must declare each of them. Others a
# server offers (cuda_shared_memory, sequence, trace, ...) are its own business, reported in `info`.
EXERCISED_EXTENSIONS = ["binary_tensor_data", "model_configuration", "statistics", "system_shared_memory"]
# The infer paths, in the order they run; each scores its own slice of golden rows.
INFER_PATHS = ["grpc", "http_json", "http_binary", "grpc_shm", "http_shm"]
# Statistics may be recorded just after a response is sent: poll for them, this long at most.
STATISTICS_WAIT_S = 10.0
STATISTICS_POLL_S = 0.05
# Where the tensors sit in their shared-memory regions: non-zero, so offsets are honoured, and the
# output's not a multiple of the page size.
SHM_INPUT_OFFSET = 64
SHM_OUTPUT_OFFSET = 4100


class CheckFailed(Exception):
    """A check ran but the server's answer was wrong; the message says what was expected."""


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_golden = os.path.join(here, "..", "..", "test", "fixtures", "fraud", "golden.json")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grpc", required=True, help="gRPC address, host:port")
    p.add_argument("--http", required=True, help="HTTP address, host:port or http://host:port")
    p.add_argument("--model", default="fraud", help="model to exercise (FP32 [N,40] in, FP32 [N,2] out)")
    p.add_argument("--golden", default=os.path.normpath(default_golden), help="golden.json holding `tensors`")
    p.add_argument("--rows", type=int, default=32, help=f"rows per infer request, 1..{MAX_ROWS} (default 32)")
    p.add_argument("--first", type=int, default=0, help="first golden row used (default 0)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds each client call may take (default 10)")
    args = p.parse_args(argv)
    if not 1 <= args.rows <= MAX_ROWS:
        p.error(f"--rows must be in 1..{MAX_ROWS}, got {args.rows}")
    if args.first < 0:
        p.error(f"--first must be >= 0, got {args.first}")
    if not 0 < args.timeout <= 600:
        p.error(f"--timeout must be in (0, 600] seconds, got {args.timeout}")
    if args.http.startswith("https://"):
        p.error("--http: TLS is not supported by this script; give http://host:port or host:port")
    # tritonclient.http takes host:port and refuses a scheme.
    args.http = args.http[len("http://"):] if args.http.startswith("http://") else args.http
    for flag in ("grpc", "http"):
        value = getattr(args, flag)
        if ":" not in value or "/" in value:
            p.error(f"--{flag} must be host:port, got {value!r}")
    return args


def die(message):
    sys.stderr.write(f"client_compat.py: {message}\n")
    sys.exit(2)


def load_rows(args):
    """The golden feature rows each infer path sends, as float32 [rows, 40] arrays."""
    try:
        with open(args.golden, encoding="utf-8") as f:
            tensors = json.load(f)["tensors"]
    except (OSError, ValueError, KeyError) as e:
        die(f"--golden {args.golden}: cannot read its `tensors`: {e}")
    needed = args.first + args.rows * len(INFER_PATHS)
    if len(tensors) < needed:
        die(f"--golden has {len(tensors)} rows; --first/--rows need {needed}")
    slices, arrays = {}, {}
    for i, path in enumerate(INFER_PATHS):
        start = args.first + i * args.rows
        slices[path] = [start, start + args.rows]
        arrays[path] = np.asarray(tensors[start : start + args.rows], dtype=np.float32)
        if arrays[path].shape != (args.rows, WIDTH):
            die(f"--golden rows {start}.. are not {WIDTH} numbers wide")
    return slices, arrays


def describe_error(e):
    if isinstance(e, InferenceServerException):
        return f"{e.status()}: {e.message()}"
    return f"{type(e).__name__}: {e}"


class Report:
    def __init__(self):
        self.checks = {}
        self.scores = {}

    def run(self, name, fn):
        """Runs one check. fn returns (value, info); a raise marks the check failed."""
        try:
            value, info = fn()
            entry = {"ok": True, "value": value}
            if info is not None:
                entry["info"] = info
        except Exception as e:  # each check stands alone: one failure must not hide the others
            entry = {"ok": False, "value": None, "error": describe_error(e)}
        self.checks[name] = entry
        return entry["ok"]


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


# --- normalisation ------------------------------------------------------------------------------

def server_metadata(meta):
    """gRPC and HTTP metadata as one shape: name, version and the full extension list go to `info`."""
    extensions = sorted(meta.get("extensions", []))
    expect(isinstance(meta.get("name"), str) and meta["name"], f"server metadata has no name: {meta}")
    expect(isinstance(meta.get("version"), str) and meta["version"], f"server metadata has no version: {meta}")
    declared = {ext: ext in extensions for ext in EXERCISED_EXTENSIONS}
    missing = [ext for ext, ok in declared.items() if not ok]
    expect(not missing, f"server metadata does not declare the extensions {missing}; it declares {extensions}")
    return {"extensions_exercised": declared}, {"name": meta["name"], "version": meta["version"], "extensions": extensions}


def tensor_metadata(tensors):
    # gRPC's JSON spells int64 as strings; HTTP as numbers.
    return [{"name": t["name"], "datatype": t["datatype"], "shape": [int(d) for d in t["shape"]]} for t in tensors]


def model_metadata(meta, model):
    value = {
        "name": meta.get("name"),
        "versions": sorted(meta.get("versions", [])),
        "inputs": tensor_metadata(meta.get("inputs", [])),
        "outputs": tensor_metadata(meta.get("outputs", [])),
    }
    expect(value["name"] == model, f"model metadata names {value['name']!r}, expected {model!r}")
    expect(value["inputs"] and value["outputs"], f"model metadata lists no inputs or outputs: {meta}")
    return value, {"platform": meta.get("platform", "")}


def config_tensors(tensors):
    return [{"name": t["name"], "data_type": t["data_type"], "dims": [int(d) for d in t["dims"]]} for t in tensors]


def model_config(config, model):
    """The fields a client relies on; platform/backend, parameters and server defaults differ legitimately."""
    batching = config.get("dynamic_batching")
    value = {
        "name": config.get("name"),
        "max_batch_size": int(config.get("max_batch_size", 0)),
        "input": config_tensors(config.get("input", [])),
        "output": config_tensors(config.get("output", [])),
        "dynamic_batching": None
        if batching is None
        else {
            "preferred_batch_size": [int(b) for b in batching.get("preferred_batch_size", [])],
            "max_queue_delay_microseconds": int(batching.get("max_queue_delay_microseconds", 0)),
        },
    }
    expect(value["name"] == model, f"model config names {value['name']!r}, expected {model!r}")
    return value, {"platform": config.get("platform", ""), "backend": config.get("backend", "")}


def regions(status, keys):
    """System shared-memory status (gRPC: {regions: {name: {...}}}; HTTP: [{...}]) of the regions in
    `keys` (name -> the key it was registered with). Keys are per run: the right one reads "<key>"."""
    listed = list(status.get("regions", {}).values()) if isinstance(status, dict) else list(status)
    return sorted(
        (
            {
                "name": r["name"],
                "key": "<key>" if r.get("key") == keys[r["name"]] else r.get("key"),
                "offset": int(r.get("offset", 0)),
                "byte_size": int(r.get("byte_size", 0)),
            }
            for r in listed
            if r.get("name") in keys
        ),
        key=lambda r: r["name"],
    )


def scores_of(probabilities, rows):
    expect(probabilities is not None, f"no output {OUTPUT!r} in the response")
    expect(probabilities.dtype == np.float32, f"{OUTPUT} has dtype {probabilities.dtype}, expected float32")
    expect(list(probabilities.shape) == [rows, OUTPUT_WIDTH], f"{OUTPUT} has shape {list(probabilities.shape)}, expected {[rows, OUTPUT_WIDTH]}")
    scores = [float(x) for x in probabilities[:, SCORE_COLUMN]]
    expect(all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores), f"{OUTPUT} holds scores outside [0, 1]: {scores[:8]}")
    return scores


def output_descriptor(output):
    """An output's name, datatype and shape from either client's response (gRPC message or HTTP dict)."""
    if isinstance(output, dict):
        return {"name": output["name"], "datatype": output["datatype"], "shape": [int(d) for d in output["shape"]]}
    return {"name": output.name, "datatype": output.datatype, "shape": [int(d) for d in output.shape]}


# --- the checks ---------------------------------------------------------------------------------

class Suite:
    def __init__(self, args, report):
        self.args = args
        self.report = report
        self.model = args.model
        self.t = args.timeout
        self.grpc = grpcclient.InferenceServerClient(args.grpc)
        self.http = httpclient.InferenceServerClient(args.http, connection_timeout=args.timeout, network_timeout=args.timeout)
        self.slices, self.rows = load_rows(args)
        # Infer requests the server answered successfully (whatever the checks then made of the answer).
        self.answered = 0
        # Every POSIX shared-memory key this run created (each is unlinked before the report).
        self.shm_keys = []

    def close(self):
        for client in (self.grpc, self.http):
            try:
                client.close()
            except Exception:
                pass

    def run(self):
        r, g, h, m, t = self.report, self.grpc, self.http, self.model, self.t

        def is_true(what, answer):
            expect(answer is True, f"{what} answered {answer!r}, expected True")
            return True, None

        r.run("grpc.server_live", lambda: is_true("is_server_live", g.is_server_live(client_timeout=t)))
        r.run("grpc.server_ready", lambda: is_true("is_server_ready", g.is_server_ready(client_timeout=t)))
        r.run("http.server_live", lambda: is_true("is_server_live", h.is_server_live()))
        r.run("http.server_ready", lambda: is_true("is_server_ready", h.is_server_ready()))
        r.run("grpc.server_metadata", lambda: server_metadata(g.get_server_metadata(as_json=True, client_timeout=t)))
        r.run("http.server_metadata", lambda: server_metadata(h.get_server_metadata()))
        r.run("grpc.model_metadata", lambda: model_metadata(g.get_model_metadata(m, as_json=True, client_timeout=t), m))
        r.run("http.model_metadata", lambda: model_metadata(h.get_model_metadata(m), m))
        r.run("grpc.model_config", lambda: model_config(g.get_model_config(m, as_json=True, client_timeout=t)["config"], m))
        r.run("http.model_config", lambda: model_config(h.get_model_config(m), m))
        r.run("grpc.model_ready", lambda: is_true(f"is_model_ready({m!r})", g.is_model_ready(m, client_timeout=t)))
        r.run("http.model_ready", lambda: is_true(f"is_model_ready({m!r})", h.is_model_ready(m)))

        # Statistics are read before and after the infers; only what the infers moved is compared.
        before = {"grpc": attempt(self.grpc_statistics), "http": attempt(self.http_statistics)}
        for path in INFER_PATHS:
            r.run(f"{path}.infer", lambda path=path: self.infer(path))
        rows = self.answered * self.args.rows
        r.run("grpc.statistics", lambda: self.statistics_moved(before["grpc"], self.grpc_statistics, self.answered, rows))
        r.run("http.statistics", lambda: self.statistics_moved(before["http"], self.http_statistics, self.answered, rows))

        # Errors last: a refused request may count as a failure in the statistics above.
        self.error_checks()

    # --- infer paths ---

    def infer(self, path):
        return getattr(self, f"infer_{path}")(self.rows[path], path)

    def infer_grpc(self, x, path):
        inp = grpcclient.InferInput(INPUT, list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        result = self.grpc.infer(self.model, [inp], outputs=[grpcclient.InferRequestedOutput(OUTPUT)], client_timeout=self.t)
        self.answered += 1
        response = result.get_response()
        # tritonclient sends raw_input_contents; the answer must come back the same way.
        expect(len(response.raw_output_contents) == len(response.outputs), f"expected raw_output_contents for every output, got {len(response.raw_output_contents)} for {len(response.outputs)}")
        self.report.scores[path] = scores_of(result.as_numpy(OUTPUT), len(x))
        return {"outputs": [output_descriptor(o) for o in response.outputs], "raw_output_contents": True}, None

    def infer_http(self, x, path, binary):
        inp = httpclient.InferInput(INPUT, list(x.shape), "FP32")
        inp.set_data_from_numpy(x, binary_data=binary)
        out = httpclient.InferRequestedOutput(OUTPUT, binary_data=binary)
        result = self.http.infer(self.model, [inp], outputs=[out])
        self.answered += 1
        response = result.get_response()
        output = result.get_output(OUTPUT)
        expect(output is not None, f"no output {OUTPUT!r} in {response}")
        size = output.get("parameters", {}).get("binary_data_size")
        if binary:
            expect(size == len(x) * OUTPUT_WIDTH * 4, f"binary output: expected binary_data_size {len(x) * OUTPUT_WIDTH * 4}, got {size}")
            expect("data" not in output, "binary output also carries JSON data")
        else:
            expect(size is None and isinstance(output.get("data"), list), f"JSON output expected, got {output}")
        self.report.scores[path] = scores_of(result.as_numpy(OUTPUT), len(x))
        value = {"outputs": [output_descriptor(o) for o in response["outputs"]], "encoding": "binary" if binary else "json"}
        return value, {"model_version": response.get("model_version")}

    def infer_http_json(self, x, path):
        return self.infer_http(x, path, binary=False)

    def infer_http_binary(self, x, path):
        return self.infer_http(x, path, binary=True)

    def infer_grpc_shm(self, x, path):
        return self.infer_shm(x, path, "grpc")

    def infer_http_shm(self, x, path):
        return self.infer_shm(x, path, "http")

    def infer_shm(self, x, path, protocol):
        """Input and output in system shared memory: create two POSIX segments, register them,
        infer with each tensor at a non-zero offset into its region, read the output from the
        segment, unregister, destroy."""
        client = self.grpc if protocol == "grpc" else self.http
        lib = grpcclient if protocol == "grpc" else httpclient
        kw = {"client_timeout": self.t} if protocol == "grpc" else {}
        in_bytes, out_bytes = x.nbytes, len(x) * OUTPUT_WIDTH * 4
        in_name, out_name = f"compat_{protocol}_in", f"compat_{protocol}_out"
        # One segment per region: Triton 2.51 refuses a second region over a key already
        # registered. Regions are registered at offset 0 (Triton 2.51 does not write an output to
        # a region registered at a non-zero offset); the tensors' own offsets are exercised instead.
        keys = {in_name: f"/infergate-compat-{os.getpid()}-{protocol}-in", out_name: f"/infergate-compat-{os.getpid()}-{protocol}-out"}
        self.shm_keys.extend(keys.values())
        handles = []
        registered = []
        try:
            in_size, out_size = SHM_INPUT_OFFSET + in_bytes, SHM_OUTPUT_OFFSET + out_bytes
            in_handle = shm.create_shared_memory_region(in_name, keys[in_name], in_size, create_only=True)
            handles.append(in_handle)
            out_handle = shm.create_shared_memory_region(out_name, keys[out_name], out_size, create_only=True)
            handles.append(out_handle)
            shm.set_shared_memory_region(in_handle, [x], offset=SHM_INPUT_OFFSET)
            # Poison the output so a server that does not write it cannot pass.
            shm.set_shared_memory_region(out_handle, [np.full((len(x), OUTPUT_WIDTH), np.nan, dtype=np.float32)], offset=SHM_OUTPUT_OFFSET)
            client.register_system_shared_memory(in_name, keys[in_name], in_size, offset=0, **kw)
            registered.append(in_name)
            client.register_system_shared_memory(out_name, keys[out_name], out_size, offset=0, **kw)
            registered.append(out_name)
            listed = regions(self.shm_status(protocol), keys)
            inp = lib.InferInput(INPUT, list(x.shape), "FP32")
            inp.set_shared_memory(in_name, in_bytes, offset=SHM_INPUT_OFFSET)
            out = lib.InferRequestedOutput(OUTPUT)
            out.set_shared_memory(out_name, out_bytes, offset=SHM_OUTPUT_OFFSET)
            result = client.infer(self.model, [inp], outputs=[out], **kw)
            self.answered += 1
            response = result.get_response()
            if protocol == "grpc":
                outputs = [output_descriptor(o) for o in response.outputs]
                sent = sum(len(raw) for raw in response.raw_output_contents)
                expect(sent == 0, f"an output in shared memory also came back in raw_output_contents ({sent} bytes)")
            else:
                outputs = [output_descriptor(o) for o in response["outputs"]]
                for o in response["outputs"]:
                    expect("data" not in o and "binary_data_size" not in o.get("parameters", {}), f"an output in shared memory also came back in the response: {o}")
            written = shm.get_contents_as_numpy(out_handle, np.float32, [len(x), OUTPUT_WIDTH], offset=SHM_OUTPUT_OFFSET)
            self.report.scores[path] = scores_of(written.copy(), len(x))
            del written  # a live view would keep the segment from closing
            while registered:
                client.unregister_system_shared_memory(registered[0], **kw)
                registered.pop(0)
            after = regions(self.shm_status(protocol), keys)
            expect(after == [], f"regions still listed after unregistering: {after}")
            return {"registered": listed, "outputs": outputs, "after_unregister": after}, None
        finally:
            for name in registered:
                try:
                    client.unregister_system_shared_memory(name, **kw)
                except Exception:
                    pass
            for handle in handles:
                shm.destroy_shared_memory_region(handle)

    def shm_status(self, protocol):
        if protocol == "grpc":
            return self.grpc.get_system_shared_memory_status(as_json=True, client_timeout=self.t)
        return self.http.get_system_shared_memory_status()

    # --- statistics ---

    def grpc_statistics(self):
        """[inference_count, execution_count, success.count, success.ns, fail.count, last_inference]"""
        stats = self.grpc.get_inference_statistics(self.model, client_timeout=self.t).model_stats
        return self.totals([(s.inference_count, s.execution_count, s.inference_stats.success.count, s.inference_stats.success.ns, s.inference_stats.fail.count, s.last_inference) for s in stats])

    def http_statistics(self):
        stats = self.http.get_inference_statistics(self.model)["model_stats"]
        return self.totals([
            (s.get("inference_count", 0), s.get("execution_count", 0), s["inference_stats"]["success"].get("count", 0),
             s["inference_stats"]["success"].get("ns", 0), s["inference_stats"]["fail"].get("count", 0), s.get("last_inference", 0))
            for s in stats
        ])

    @staticmethod
    def totals(per_version):
        # Summed over the model's versions; last_inference is a timestamp, so its max.
        sums = [int(sum(v[i] for v in per_version)) for i in range(5)]
        return sums + [int(max((v[5] for v in per_version), default=0))]

    def statistics_moved(self, before, read, requests, rows):
        if isinstance(before, Exception):
            raise CheckFailed(f"the statistics could not be read before the infers: {describe_error(before)}")
        deadline = time.monotonic() + STATISTICS_WAIT_S
        now = read()
        while now[2] - before[2] < requests and time.monotonic() < deadline:
            time.sleep(STATISTICS_POLL_S)
            now = read()
        delta = [a - b for a, b in zip(now, before)]
        value = {
            "inference_count_delta": delta[0],
            "success_count_delta": delta[2],
            "fail_count_delta": delta[4],
            # Timings and batch counts depend on the server's batching and clock: only that they moved.
            "execution_count_moved": delta[1] > 0,
            "success_ns_moved": delta[3] > 0,
            "last_inference_moved": delta[5] > 0,
        }
        expected = {"inference_count_delta": rows, "success_count_delta": requests, "fail_count_delta": 0,
                    "execution_count_moved": True, "success_ns_moved": True, "last_inference_moved": True}
        expect(requests > 0, "no infer was answered, so the statistics cannot have moved")
        expect(value == expected, f"statistics moved by {value}, expected {expected}")
        return value, {"execution_count_delta": delta[1]}

    # --- errors ---

    def error_checks(self):
        r, g, h, m, t = self.report, self.grpc, self.http, self.model, self.t
        good = np.zeros((2, WIDTH), dtype=np.float32)
        narrow = np.zeros((2, WIDTH - 1), dtype=np.float32)
        doubles = np.zeros((2, WIDTH), dtype=np.float64)

        def gin(x, datatype="FP32"):
            i = grpcclient.InferInput(INPUT, list(x.shape), datatype)
            i.set_data_from_numpy(x)
            return [i]

        def hin(x, datatype="FP32"):
            i = httpclient.InferInput(INPUT, list(x.shape), datatype)
            i.set_data_from_numpy(x, binary_data=False)
            return [i]

        def in_unknown_region(lib):
            i = lib.InferInput(INPUT, [2, WIDTH], "FP32")
            i.set_shared_memory("compat_never_registered", good.nbytes)
            return [i]

        cases = {
            "unknown_model_infer": (lambda: g.infer("no_such_model", gin(good), client_timeout=t), lambda: h.infer("no_such_model", hin(good))),
            "unknown_model_metadata": (lambda: g.get_model_metadata("no_such_model", client_timeout=t), lambda: h.get_model_metadata("no_such_model")),
            "wrong_shape": (lambda: g.infer(m, gin(narrow), client_timeout=t), lambda: h.infer(m, hin(narrow))),
            "wrong_datatype": (lambda: g.infer(m, gin(doubles, "FP64"), client_timeout=t), lambda: h.infer(m, hin(doubles, "FP64"))),
            "unregistered_shm_region": (lambda: g.infer(m, in_unknown_region(grpcclient), client_timeout=t), lambda: h.infer(m, in_unknown_region(httpclient))),
        }
        for case, (grpc_call, http_call) in cases.items():
            r.run(f"grpc.error.{case}", lambda call=grpc_call: refused(call))
            r.run(f"http.error.{case}", lambda call=http_call: refused(call))

        def not_ready(answer):
            expect(answer is False, f"is_model_ready('no_such_model') answered {answer!r}, expected False")
            return False, None

        r.run("grpc.error.unknown_model_ready", lambda: not_ready(g.is_model_ready("no_such_model", client_timeout=t)))
        r.run("http.error.unknown_model_ready", lambda: not_ready(h.is_model_ready("no_such_model")))


def attempt(fn):
    """fn's result, or the exception it raised (reported by the check that needs the result)."""
    try:
        return fn()
    except Exception as e:
        return e


def refused(call):
    """The call must fail with a server status; the status is compared, the wording is not."""
    try:
        call()
    except InferenceServerException as e:
        status = e.status()
        expect(status is not None and status != "StatusCode.UNAVAILABLE", f"no answer from the server: {describe_error(e)}")
        return {"status": status}, {"message": e.message()}
    raise CheckFailed("the server accepted a request it should refuse")


def main(argv):
    args = parse_args(argv)
    report = Report()
    suite = Suite(args, report)
    try:
        suite.run()
    finally:
        suite.close()
    failed = [name for name, c in report.checks.items() if not c["ok"]]
    out = {
        "target": {"grpc": args.grpc, "http": args.http},
        "model": args.model,
        "rows": suite.slices,
        "checks": report.checks,
        "scores": report.scores,
        "shm_keys": suite.shm_keys,
        "summary": {"passed": len(report.checks) - len(failed), "failed": failed},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
