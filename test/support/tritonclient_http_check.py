"""Drives a KServe v2 HTTP server with Triton's own Python client (tritonclient.http) on the
"identity" model of scripts/triton/repository, and prints what came back as one JSON object.

The tests run it against a real tritonserver and against infergate (forwarding to that server) and
compare the two outputs: the same client, the same calls, the same answers.

usage: python tritonclient_http_check.py <host:port> <shm key prefix>
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm

URL, PREFIX = sys.argv[1], sys.argv[2]
MODEL = "identity"

FP32 = np.array([[1.5, -2.0, 3.25, 1e-7]], dtype=np.float32)
FP16 = np.array([[0.5, -1.0, 65504.0, 6e-5]], dtype=np.float16)
INT64 = np.array([[1, -2, 2**40, 0]], dtype=np.int64)
BOOL = np.array([[True, False, True, True]], dtype=bool)
BYTES = np.array([[b"", b"a", "\u00e9t\u00e9".encode(), b"tri ton"]], dtype=np.object_)
INPUTS = {"IN_FP32": FP32, "IN_FP16": FP16, "IN_INT64": INT64, "IN_BOOL": BOOL, "IN_BYTES": BYTES}
DATATYPE = {"IN_FP32": "FP32", "IN_FP16": "FP16", "IN_INT64": "INT64", "IN_BOOL": "BOOL", "IN_BYTES": "BYTES"}


def encode(a):
    """An output as JSON: datatype-independent, exact (bytes as hex)."""
    if a.dtype == np.object_:
        return [x.hex() if isinstance(x, bytes) else x.encode().hex() for x in a.flatten()]
    return {"dtype": str(a.dtype), "shape": list(a.shape), "hex": a.tobytes().hex()}


def infer(client, binary_inputs, binary_outputs):
    inputs = []
    for name, value in INPUTS.items():
        i = httpclient.InferInput(name, list(value.shape), DATATYPE[name])
        # FP16 cannot travel as JSON; every other input goes the way the caller asks.
        i.set_data_from_numpy(value, binary_data=binary_inputs or name == "IN_FP16")
        inputs.append(i)
    outputs = [
        httpclient.InferRequestedOutput(name.replace("IN_", "OUT_"), binary_data=binary_outputs or name == "IN_FP16")
        for name in INPUTS
    ]
    result = client.infer(MODEL, inputs, outputs=outputs, request_id="check-1")
    response = result.get_response()
    return {
        "id": response.get("id"),
        "model_name": response["model_name"],
        "outputs": {o["name"]: encode(result.as_numpy(o["name"])) for o in response["outputs"]},
        "binary": sorted(o["name"] for o in response["outputs"] if "binary_data_size" in o.get("parameters", {})),
    }


def infer_through_shared_memory(client):
    size = FP32.nbytes
    key_in, key_out = f"/{PREFIX}_in", f"/{PREFIX}_out"
    region_in = shm.create_shared_memory_region(f"{PREFIX}_in", key_in, size)
    region_out = shm.create_shared_memory_region(f"{PREFIX}_out", key_out, size * 2)
    try:
        shm.set_shared_memory_region(region_in, [FP32])
        client.register_system_shared_memory(f"{PREFIX}_in", key_in, size)
        client.register_system_shared_memory(f"{PREFIX}_out", key_out, size * 2)
        status = client.get_system_shared_memory_status()
        inputs = []
        for name, value in INPUTS.items():
            i = httpclient.InferInput(name, list(value.shape), DATATYPE[name])
            if name == "IN_FP32":
                i.set_shared_memory(f"{PREFIX}_in", size)
            else:
                i.set_data_from_numpy(value, binary_data=True)
            inputs.append(i)
        out = httpclient.InferRequestedOutput("OUT_FP32", binary_data=True)
        out.set_shared_memory(f"{PREFIX}_out", size, offset=size)
        result = client.infer(MODEL, inputs, outputs=[out])
        response = result.get_response()
        written = shm.get_contents_as_numpy(region_out, np.float32, list(FP32.shape), offset=size)
        client.unregister_system_shared_memory(f"{PREFIX}_in")
        client.unregister_system_shared_memory(f"{PREFIX}_out")
        after = client.get_system_shared_memory_status()
        return {
            "status": sorted(status, key=lambda r: r["name"]),
            "response_outputs": response["outputs"],
            "written": encode(written),
            "status_after": after,
        }
    finally:
        shm.destroy_shared_memory_region(region_in)
        shm.destroy_shared_memory_region(region_out)


def main():
    client = httpclient.InferenceServerClient(URL)
    report = {
        "live": client.is_server_live(),
        "ready": client.is_model_ready(MODEL),
        "binary": infer(client, True, True),
        "json": infer(client, False, False),
        "shared_memory": infer_through_shared_memory(client),
        "config": client.get_model_config(MODEL),
        "statistics": client.get_inference_statistics(MODEL),
    }
    client.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
