"""OUT = IN, after sleeping delay_ms (request parameter, else the config's default)."""

import json
import time

import triton_python_backend_utils as pb_utils

MAX_DELAY_MS = 60_000


def parse_delay(value, source):
    """delay_ms as a float in [0, MAX_DELAY_MS]; raises ValueError naming where it came from."""
    if isinstance(value, bool):
        raise ValueError(f"{source} delay_ms must be a number of milliseconds, got {value!r}")
    try:
        delay = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{source} delay_ms must be a number of milliseconds, got {value!r}") from None
    if not 0 <= delay <= MAX_DELAY_MS:
        raise ValueError(f"{source} delay_ms must be within 0..{MAX_DELAY_MS}, got {value!r}")
    return delay


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        raw = config.get("parameters", {}).get("delay_ms", {}).get("string_value", "0")
        try:
            self.default_delay_ms = parse_delay(raw, "config parameter")
        except ValueError as e:
            raise pb_utils.TritonModelException(f"delay: {e}") from None

    def execute(self, requests):
        delays = []
        for request in requests:
            params = json.loads(request.parameters() or "{}")
            try:
                delays.append(parse_delay(params["delay_ms"], "request parameter") if "delay_ms" in params else self.default_delay_ms)
            except ValueError as e:
                delays.append(pb_utils.TritonError(f"delay: {e}", pb_utils.TritonError.INVALID_ARG))
        pause = max((d for d in delays if isinstance(d, float)), default=0.0)
        if pause > 0:
            time.sleep(pause / 1000)
        responses = []
        for request, delay in zip(requests, delays):
            if isinstance(delay, pb_utils.TritonError):
                responses.append(pb_utils.InferenceResponse(error=delay))
                continue
            data = pb_utils.get_input_tensor_by_name(request, "IN").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUT", data)]))
        return responses
