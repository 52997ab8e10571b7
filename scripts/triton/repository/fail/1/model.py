"""OUT = IN unless asked to fail: request parameter "fail", else $INFERGATE_TRITON_FAIL, names the code."""

import json
import os

import triton_python_backend_utils as pb_utils

CODES = ("UNAVAILABLE", "INTERNAL", "INVALID_ARG", "NOT_FOUND", "UNSUPPORTED", "ALREADY_EXISTS", "CANCELLED", "UNKNOWN")


def error_for(code, source):
    """The TritonError a code asks for; an unknown code is itself an INVALID_ARG error."""
    if code not in CODES:
        return pb_utils.TritonError(
            f"fail: {source} must be one of {', '.join(CODES)}, got {code!r}", pb_utils.TritonError.INVALID_ARG
        )
    return pb_utils.TritonError(f"fail: failing as asked by {source} ({code})", getattr(pb_utils.TritonError, code))


class TritonPythonModel:
    def initialize(self, args):
        code = os.environ.get("INFERGATE_TRITON_FAIL", "")
        if code and code not in CODES:
            # Refuse to load: a misspelt code would otherwise pass silently as "never fail".
            raise pb_utils.TritonModelException(
                f"fail: environment variable INFERGATE_TRITON_FAIL must be one of {', '.join(CODES)}, got {code!r}"
            )
        self.replica_code = code

    def execute(self, requests):
        responses = []
        for request in requests:
            params = json.loads(request.parameters() or "{}")
            if "fail" in params:
                error = error_for(params["fail"], "request parameter fail")
            elif self.replica_code:
                error = error_for(self.replica_code, "INFERGATE_TRITON_FAIL")
            else:
                error = None
            if error is not None:
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            data = pb_utils.get_input_tensor_by_name(request, "IN").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUT", data)]))
        return responses
