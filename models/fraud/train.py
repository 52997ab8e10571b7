"""Train the example fraud model and export everything infergate serves.

Run it as `bash models/fraud/train.sh` from the repository root (the script sets up the
virtualenv). Everything here is deterministic: fixed seeds, fixed thread counts, no timestamps,
so running it twice writes byte-identical artifacts.

Outputs (paths relative to the repository root):
  models/fraud/preprocess.json         the fitted ColumnTransformer, as docs/preprocess.md data
  models/fraud/1/model.onnx            the XGBoost classifier only: features -> label, probabilities
  models/fraud/config.pbtxt            Triton-layout model config with the infergate parameters
  models/fraud/example.json            one raw record, a body for POST /v1/models/fraud/score
  models/fraud/metrics.json            test AUC, fraud rate, row counts, versions
  models/fraud/reference_scores.json   histogram of held-out scores (20 bins over [0, 1])
  test/fixtures/fraud/golden.json      2,000 raw rows -> tensor -> score, for the native plan's tests
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxmltools
import onnxruntime as ort
import pandas as pd
import sklearn
import xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
    TargetEncoder,
)
from xgboost import XGBClassifier

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "models" / "fraud"
FIXTURE_DIR = ROOT / "test" / "fixtures" / "fraud"

SEED = 20250611
N_ROWS = 200_000
TEST_FRACTION = 0.2
N_GOLDEN = 2_000
TARGET_FRAUD_RATE = 0.015
RARE_FREQUENCY = 0.005  # OneHotEncoder min_frequency: categories below 0.5 % share one column
OUTPUT_NAME = "features"
DECISION_BANDS = "step_up:0.60,block:0.82"

# ---------------------------------------------------------------------------------------------
# The raw record. Order here is the order of `fields` in preprocess.json. Bounds are domain
# facts (not fitted numbers): a record outside them is refused at serving time.
# ---------------------------------------------------------------------------------------------
FIELDS = [
    {"name": "amount", "type": "number", "missing": "reject", "min": 0},
    {"name": "currency", "type": "string", "missing": "impute"},
    {"name": "merchant_category", "type": "string", "missing": "impute"},
    {"name": "hour_of_day", "type": "number", "missing": "reject", "min": 0, "max": 23},
    {"name": "card_present", "type": "boolean", "missing": "reject"},
    {"name": "country_mismatch", "type": "boolean", "missing": "reject"},
    {"name": "txn_count_1h", "type": "number", "missing": "impute", "min": 0},
    {"name": "txn_count_24h", "type": "number", "missing": "impute", "min": 0},
    {"name": "account_age_days", "type": "number", "missing": "impute", "min": 0},
    {"name": "device_risk_score", "type": "number", "missing": "impute", "min": 0, "max": 1},
    {"name": "distance_from_home_km", "type": "number", "missing": "impute", "min": 0},
]
FIELD_NAMES = [f["name"] for f in FIELDS]
FIELD_BY_NAME = {f["name"]: f for f in FIELDS}

# Share of values removed from each `impute` field after the label is drawn.
MISSING_RATES = {
    "currency": 0.02,
    "merchant_category": 0.03,
    "txn_count_1h": 0.025,
    "txn_count_24h": 0.025,
    "account_age_days": 0.04,
    "device_risk_score": 0.04,  # plus more for fraud, see make_dataset
    "distance_from_home_km": 0.03,
}

# (code, share of transactions, units per USD, fraud log-odds offset)
CURRENCIES = [
    ("USD", 0.46, 1.0, 0.0),
    ("EUR", 0.20, 0.92, -0.1),
    ("GBP", 0.10, 0.79, 0.0),
    ("CAD", 0.06, 1.36, 0.1),
    ("JPY", 0.06, 150.0, -0.2),
    ("AUD", 0.05, 1.52, 0.2),
    ("MXN", 0.04, 17.0, 0.5),
    ("CHF", 0.03, 0.88, -0.3),
]

# (category, weight, mean log USD amount, P(card present), fraud log-odds offset)
# The last six are rare (well under 0.5 %) and land in the one-hot "infrequent" column.
MERCHANTS = [
    ("grocery", 0.150, 3.4, 0.92, -0.7),
    ("restaurants", 0.120, 3.3, 0.90, -0.5),
    ("online_retail", 0.100, 4.0, 0.02, 0.5),
    ("fuel", 0.080, 3.7, 0.95, -0.2),
    ("clothing", 0.060, 4.1, 0.55, 0.1),
    ("electronics", 0.050, 5.2, 0.40, 0.9),
    ("ride_share", 0.050, 2.9, 0.05, 0.0),
    ("pharmacy", 0.040, 3.2, 0.90, -0.5),
    ("streaming_services", 0.040, 2.6, 0.01, -0.3),
    ("home_improvement", 0.030, 4.6, 0.80, -0.1),
    ("hotels", 0.030, 5.3, 0.50, 0.4),
    ("utilities", 0.030, 4.5, 0.02, -0.8),
    ("telecom", 0.030, 4.0, 0.10, 0.0),
    ("entertainment", 0.030, 3.7, 0.60, 0.1),
    ("department_store", 0.030, 4.3, 0.75, 0.0),
    ("travel_airline", 0.030, 6.0, 0.05, 0.7),
    ("sporting_goods", 0.020, 4.3, 0.70, 0.2),
    ("gaming", 0.020, 3.5, 0.03, 0.8),
    ("digital_goods", 0.020, 3.0, 0.01, 1.0),
    ("healthcare", 0.015, 4.8, 0.85, -0.5),
    ("education", 0.012, 5.0, 0.20, -0.4),
    ("gift_cards", 0.009, 4.6, 0.50, 1.6),
    ("jewelry", 0.0040, 6.3, 0.70, 1.4),
    ("betting", 0.0035, 4.0, 0.02, 1.3),
    ("money_transfer", 0.0030, 5.5, 0.05, 1.8),
    ("crypto_exchange", 0.0030, 5.8, 0.01, 2.0),
    ("adult_content", 0.0020, 3.5, 0.01, 1.2),
    ("pawn_shop", 0.0015, 4.8, 0.95, 1.5),
]

# Transactions per hour of day (relative), a daytime peak and a quiet night.
HOUR_WEIGHTS = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.5,
                6.0, 5.5, 5.0, 5.0, 5.0, 5.5, 6.0, 5.5, 5.0, 4.0, 3.0, 2.0]

# Strings the golden fixtures use that training never saw (case variants included on purpose).
UNSEEN_MERCHANTS = ["space_tourism", "nft_marketplace", "yacht_charter", "Grocery", "GROCERY ", "fuel "]
UNSEEN_CURRENCIES = ["SEK", "BRL", "XXX", "usd", "Eur", ""]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def make_dataset(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic card transactions. Returns raw columns (NaN / None where missing) and labels."""
    cur_p = np.array([c[1] for c in CURRENCIES])
    cur_idx = rng.choice(len(CURRENCIES), size=n, p=cur_p / cur_p.sum())
    m_w = np.array([m[1] for m in MERCHANTS])
    m_idx = rng.choice(len(MERCHANTS), size=n, p=m_w / m_w.sum())

    m_logmean = np.array([m[2] for m in MERCHANTS])[m_idx]
    m_cp = np.array([m[3] for m in MERCHANTS])[m_idx]
    m_risk = np.array([m[4] for m in MERCHANTS])[m_idx]
    c_rate = np.array([c[2] for c in CURRENCIES])[cur_idx]
    c_risk = np.array([c[3] for c in CURRENCIES])[cur_idx]

    h_w = np.array(HOUR_WEIGHTS)
    hour = rng.choice(24, size=n, p=h_w / h_w.sum())
    card_present = rng.random(n) < m_cp
    travel = np.isin(m_idx, [i for i, m in enumerate(MERCHANTS) if m[0] in ("travel_airline", "hotels")])
    country_mismatch = rng.random(n) < np.where(travel, 0.25, 0.035)

    amount_z = rng.normal(0.0, 1.0, n)
    usd = np.exp(m_logmean + 0.9 * amount_z)
    amount = usd * c_rate
    amount = np.where(c_rate > 50, np.round(amount), np.round(amount, 2))
    amount = np.maximum(amount, np.where(c_rate > 50, 1.0, 0.01))  # no zero-value purchases in training

    txn_1h = rng.poisson(0.6, n) + (rng.random(n) < 0.03) * rng.poisson(4.0, n)
    txn_24h = txn_1h + rng.poisson(np.where(card_present, 3.0, 4.5), n)
    account_age = np.floor(rng.exponential(900.0, n)).clip(0, 9000)
    device_risk = np.round(rng.beta(1.5, 9.0, n), 4)
    device_risk = np.where(card_present, np.round(device_risk * 0.5, 4), device_risk)
    distance = np.where(card_present, rng.lognormal(1.5, 1.0, n), rng.lognormal(2.5, 1.5, n))
    distance = distance + country_mismatch * rng.lognormal(7.0, 0.5, n)
    distance = np.round(distance, 1)

    night = (hour <= 5).astype(float)
    logit = (
        m_risk
        + c_risk
        + 0.45 * amount_z
        + 0.6 * (~card_present) * np.maximum(amount_z, 0.0)
        + 0.7 * (~card_present)
        + 1.6 * country_mismatch
        + 0.8 * night
        + 0.45 * np.minimum(txn_1h, 8)
        + 0.05 * np.minimum(txn_24h, 30)
        + 1.2 * (account_age < 30)
        - 0.25 * np.log1p(account_age) / np.log(10.0)
        + 4.0 * device_risk
        + 0.15 * np.log1p(distance)
        + rng.normal(0.0, 0.6, n)  # what no field explains
    )
    # Intercept chosen (by bisection on the expected rate) so the fraud rate is near target.
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if sigmoid(logit + mid).mean() > TARGET_FRAUD_RATE:
            hi = mid
        else:
            lo = mid
    y = (rng.random(n) < sigmoid(logit + 0.5 * (lo + hi))).astype(np.int64)

    cols: dict[str, np.ndarray] = {
        "amount": amount.astype(np.float64),
        "currency": np.array([CURRENCIES[i][0] for i in cur_idx], dtype=object),
        "merchant_category": np.array([MERCHANTS[i][0] for i in m_idx], dtype=object),
        "hour_of_day": hour.astype(np.float64),
        "card_present": card_present.astype(bool),
        "country_mismatch": country_mismatch.astype(bool),
        "txn_count_1h": txn_1h.astype(np.float64),
        "txn_count_24h": txn_24h.astype(np.float64),
        "account_age_days": account_age.astype(np.float64),
        "device_risk_score": device_risk.astype(np.float64),
        "distance_from_home_km": distance.astype(np.float64),
    }
    for name, rate in MISSING_RATES.items():
        p = np.full(n, rate)
        if name == "device_risk_score":
            p = p + 0.10 * y  # fraudsters block device fingerprinting more often
        mask = rng.random(n) < p
        cols[name][mask] = np.nan
    return cols, y


def to_frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Columns -> DataFrame with explicit dtypes (object for strings, NaN for missing)."""
    data = {}
    for f in FIELDS:
        v = cols[f["name"]]
        if f["type"] == "string":
            data[f["name"]] = pd.Series(v, dtype=object)
        elif f["type"] == "boolean":
            data[f["name"]] = pd.Series(v, dtype=bool)
        else:
            data[f["name"]] = pd.Series(v, dtype=np.float64)
    return pd.DataFrame(data)


def records_to_frame(records: list[dict]) -> pd.DataFrame:
    """Raw JSON-style records (key absent or None = missing) -> DataFrame for the ColumnTransformer."""
    cols: dict[str, np.ndarray] = {}
    for f in FIELDS:
        name = f["name"]
        vals = [r.get(name) for r in records]
        if f["type"] == "string":
            cols[name] = np.array([np.nan if v is None else v for v in vals], dtype=object)
        elif f["type"] == "boolean":
            assert all(isinstance(v, bool) for v in vals), name
            cols[name] = np.array(vals, dtype=bool)
        else:
            cols[name] = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
    return to_frame(cols)


def frame_to_records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows -> JSON-typed records; missing values are left out (callers re-add nulls)."""
    out = []
    columns = {name: df[name].to_numpy() for name in FIELD_NAMES}
    for i in range(len(df)):
        rec = {}
        for f in FIELDS:
            v = columns[f["name"]][i]
            if f["type"] == "string":
                if isinstance(v, str):
                    rec[f["name"]] = v
            elif f["type"] == "boolean":
                rec[f["name"]] = bool(v)
            else:
                if not math.isnan(v):
                    fv = float(v)
                    rec[f["name"]] = int(fv) if fv.is_integer() and abs(fv) < 2**53 else fv
        out.append(rec)
    return out


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
def log1p() -> FunctionTransformer:
    return FunctionTransformer(np.log1p, feature_names_out="one-to-one")


def clip(lo: float, hi: float) -> FunctionTransformer:
    return FunctionTransformer(np.clip, kw_args={"a_min": lo, "a_max": hi}, feature_names_out="one-to-one")


def build_pipeline() -> Pipeline:
    columns = ColumnTransformer(
        [
            ("amount", Pipeline([("log1p", log1p()), ("scale", StandardScaler()), ("clip", clip(-5.0, 5.0))]),
             ["amount"]),
            ("currency", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                   ("encode", TargetEncoder(target_type="binary", cv=StratifiedKFold(
                                       n_splits=5, shuffle=True, random_state=SEED)))]),
             ["currency"]),
            ("merchant_category", Pipeline([
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("one_hot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=RARE_FREQUENCY,
                                          sparse_output=False)),
            ]), ["merchant_category"]),
            ("hour_bucket", KBinsDiscretizer(n_bins=6, encode="onehot-dense", strategy="uniform"), ["hour_of_day"]),
            ("hour_scaled", MinMaxScaler(), ["hour_of_day"]),
            ("card_present", "passthrough", ["card_present"]),
            ("country_mismatch", "passthrough", ["country_mismatch"]),
            ("txn_count_1h", Pipeline([("impute", SimpleImputer(strategy="median")), ("log1p", log1p()),
                                       ("scale", StandardScaler())]), ["txn_count_1h"]),
            ("txn_count_24h", Pipeline([("impute", SimpleImputer(strategy="median")), ("log1p", log1p()),
                                        ("scale", StandardScaler())]), ["txn_count_24h"]),
            ("account_age_days", Pipeline([("impute", SimpleImputer(strategy="median")), ("log1p", log1p()),
                                           ("scale", MinMaxScaler(clip=True))]), ["account_age_days"]),
            ("device_risk_score", SimpleImputer(strategy="constant", fill_value=0.5), ["device_risk_score"]),
            ("distance_from_home_km", Pipeline([("impute", SimpleImputer(strategy="mean")), ("log1p", log1p()),
                                                ("scale", StandardScaler()), ("clip", clip(-4.0, 6.0))]),
             ["distance_from_home_km"]),
        ],
        remainder="drop",
        sparse_threshold=0.0,
    )
    model = XGBClassifier(
        n_estimators=200,
        max_depth=5,
        learning_rate=0.1,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_weight=2.0,
        tree_method="hist",
        objective="binary:logistic",
        eval_metric="auc",
        random_state=SEED,
        n_jobs=2,
    )
    return Pipeline([("preprocess", columns), ("model", model)])


# ---------------------------------------------------------------------------------------------
# Export: fitted ColumnTransformer -> preprocess.json (docs/preprocess.md)
# ---------------------------------------------------------------------------------------------
def num(x) -> float:
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"non-finite parameter {v!r}")
    return v


def export_step(step) -> list[dict]:
    """One fitted single-column transformer -> the spec steps that compute the same thing."""
    if isinstance(step, SimpleImputer):
        value = step.statistics_[0]
        value = value if isinstance(value, str) else num(value)
        return [{"op": "impute", "value": value, "strategy": step.strategy}]
    if isinstance(step, FunctionTransformer):
        if step.func is None and not step.kw_args:  # ColumnTransformer's "passthrough"
            return []
        if step.func is np.log1p and not step.kw_args:
            return [{"op": "log1p"}]
        if step.func is np.clip and set(step.kw_args) == {"a_min", "a_max"}:
            return [{"op": "clip", "min": num(step.kw_args["a_min"]), "max": num(step.kw_args["a_max"])}]
        raise ValueError(f"no spec op for FunctionTransformer({step.func!r})")
    if isinstance(step, StandardScaler):
        assert step.with_mean and step.with_std
        return [{"op": "standardize", "mean": num(step.mean_[0]), "scale": num(step.scale_[0])}]
    if isinstance(step, MinMaxScaler):
        out = [{"op": "min_max", "scale": num(step.scale_[0]), "offset": num(step.min_[0])}]
        if step.clip:
            out.append({"op": "clip", "min": num(step.feature_range[0]), "max": num(step.feature_range[1])})
        return out
    if isinstance(step, TargetEncoder):
        assert step.target_type_ in ("binary", "continuous")
        cats = step.categories_[0]
        enc = step.encodings_[0]
        assert all(isinstance(c, str) for c in cats)
        return [{"op": "lookup", "table": {str(c): num(e) for c, e in zip(cats, enc)},
                 "default": num(step.target_mean_)}]
    if isinstance(step, OneHotEncoder):
        assert step.drop is None
        cats = list(step.categories_[0])
        infrequent = step.infrequent_categories_[0]
        if infrequent is not None:
            # sklearn puts the single infrequent column last; unseen strings go there too.
            assert step.handle_unknown == "infrequent_if_exist"
            rare = set(infrequent)
            frequent = [c for c in cats if c not in rare]
            names = list(step.get_feature_names_out())
            assert names[-1].endswith("_infrequent_sklearn") and len(names) == len(frequent) + 1
            unknown = "bucket"
        else:
            assert step.handle_unknown in ("ignore", "infrequent_if_exist")
            frequent, unknown = cats, "ignore"
        assert all(isinstance(c, str) for c in frequent)
        return [{"op": "one_hot", "categories": [str(c) for c in frequent], "unknown": unknown}]
    if isinstance(step, KBinsDiscretizer):
        # sklearn: bin = searchsorted(bin_edges[1:-1], x, side="right") = count of inner edges <= x.
        edges = step.bin_edges_[0]
        encode = {"ordinal": "ordinal", "onehot-dense": "one_hot"}[step.encode]
        return [{"op": "bucketize", "boundaries": [num(b) for b in edges[1:-1]], "encode": encode}]
    raise ValueError(f"no spec op for {type(step).__name__}")


def export_preprocess(columns: ColumnTransformer, width: int) -> dict:
    features = []
    for name, trans, cols in columns.transformers_:
        if name == "remainder":
            assert trans == "drop"
            continue
        assert len(cols) == 1, name
        field = cols[0]
        if isinstance(trans, str):
            assert trans == "passthrough", trans
            parts = []
        else:
            parts = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
        steps = [op for part in parts for op in export_step(part)]
        if not steps:
            assert FIELD_BY_NAME[field]["type"] in ("number", "boolean"), field
        if FIELD_BY_NAME[field]["missing"] == "impute":
            assert steps and steps[0]["op"] == "impute", field
        features.append({"field": field, "steps": steps})
    return {
        "format": "infergate.preprocess/1",
        "fields": FIELDS,
        "features": features,
        "output": {"name": OUTPUT_NAME, "width": width},
    }


# ---------------------------------------------------------------------------------------------
# Independent check: docs/preprocess.md semantics, applied to raw records
# ---------------------------------------------------------------------------------------------
def apply_spec(spec: dict, records: list[dict]) -> np.ndarray:
    """Re-implements preprocess.json as the doc states it (not via sklearn)."""
    n = len(records)
    fields = {f["name"]: f for f in spec["fields"]}
    blocks = []
    for feat in spec["features"]:
        f = fields[feat["field"]]
        raw = [r.get(f["name"]) for r in records]
        missing = np.array([v is None for v in raw])
        if f["missing"] == "reject":
            assert not missing.any(), f["name"]
        if f["type"] == "string":
            x = np.array(["" if v is None else v for v in raw], dtype=object)
        else:
            x = np.array([np.nan if v is None else float(v) for v in raw], dtype=np.float64)
            assert np.isfinite(x[~missing]).all()
            if "min" in f:
                assert (x[~missing] >= f["min"]).all(), f["name"]
            if "max" in f:
                assert (x[~missing] <= f["max"]).all(), f["name"]
        out = None
        for k, s in enumerate(feat["steps"]):
            op = s["op"]
            if op == "impute":
                assert k == 0
                x = x.copy()
                x[missing] = s["value"]
            elif op == "log1p":
                x = np.log1p(x)
            elif op == "standardize":
                x = (x - s["mean"]) / s["scale"]
            elif op == "min_max":
                x = x * s["scale"] + s["offset"]
            elif op == "clip":
                x = np.minimum(np.maximum(x, s.get("min", -np.inf)), s.get("max", np.inf))
            elif op == "lookup":
                x = np.array([s["table"].get(v, s["default"]) for v in x], dtype=np.float64)
            elif op == "bucketize":
                b = np.array(s["boundaries"])
                i = (x[:, None] >= b[None, :]).sum(axis=1)
                if s["encode"] == "ordinal":
                    x = np.where(np.isnan(x), np.nan, i.astype(np.float64))
                else:
                    out = np.zeros((n, len(b) + 1))
                    ok = ~np.isnan(x)
                    out[np.nonzero(ok)[0], i[ok]] = 1.0
            elif op == "one_hot":
                cats = {c: j for j, c in enumerate(s["categories"])}
                extra = 1 if s["unknown"] == "bucket" else 0
                out = np.zeros((n, len(cats) + extra))
                for r, v in enumerate(x):
                    j = cats.get(v)
                    if j is not None:
                        out[r, j] = 1.0
                    elif extra:
                        out[r, -1] = 1.0
            else:
                raise ValueError(op)
        if out is None:
            x = np.asarray(x, dtype=np.float64)
            out = x[:, None]
        blocks.append(out.astype(np.float64))
    result = np.hstack(blocks)
    assert result.shape[1] == spec["output"]["width"]
    return result


# ---------------------------------------------------------------------------------------------
# Golden fixtures
# ---------------------------------------------------------------------------------------------
def make_golden_records(rng: np.random.Generator, test_df: pd.DataFrame, boundaries: list[float]) -> list[dict]:
    pick = np.sort(rng.choice(len(test_df), size=N_GOLDEN, replace=False))
    records = frame_to_records(test_df.iloc[pick])
    impute_fields = [f["name"] for f in FIELDS if f["missing"] == "impute"]
    rare = [m[0] for m in MERCHANTS if m[1] < RARE_FREQUENCY]
    for i, rec in enumerate(records):
        u = rng.random()
        if u < 0.12:  # one or two extra missing fields
            for name in rng.choice(impute_fields, size=int(rng.integers(1, 3)), replace=False):
                rec.pop(str(name), None)
        elif u < 0.16:
            rec["merchant_category"] = UNSEEN_MERCHANTS[int(rng.integers(len(UNSEEN_MERCHANTS)))]
        elif u < 0.20:
            rec["currency"] = UNSEEN_CURRENCIES[int(rng.integers(len(UNSEEN_CURRENCIES)))]
        elif u < 0.26:
            rec["merchant_category"] = rare[int(rng.integers(len(rare)))]
        elif u < 0.27:
            rec["merchant_category"] = "missing"  # the impute value itself, as a real string
        elif u < 0.29:  # a value exactly on a bucketize boundary ("count of boundaries <= x")
            rec["hour_of_day"] = float(boundaries[int(rng.integers(len(boundaries)))])
        elif u < 0.31:  # extremes: clipping, bounds, zero
            which = int(rng.integers(6))
            if which == 0:
                rec["amount"] = 0
            elif which == 1:
                rec["amount"] = 25_000_000.0  # log1p-standardized beyond 5 -> clipped
            elif which == 2:
                rec["account_age_days"] = 20_000  # beyond the training max -> min_max clip to 1
            elif which == 3:
                rec["device_risk_score"] = 1
                rec["distance_from_home_km"] = 0
            elif which == 4:
                rec["hour_of_day"] = 23
                rec["txn_count_1h"] = 0
                rec["txn_count_24h"] = 0
            else:
                rec["hour_of_day"] = 0
                rec["distance_from_home_km"] = 19_000.5
        # Missing as JSON null rather than an absent key, for about half of the missing values.
        for name in impute_fields:
            if name not in rec and rng.random() < 0.5:
                rec[name] = None
        records[i] = {name: rec[name] for name in FIELD_NAMES if name in rec}
    return records


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def dumps(obj) -> str:
    return json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def dumps_lines(obj: dict) -> str:
    """Top-level object; list values get one element per line (diffable, compact)."""
    parts = []
    for key, value in obj.items():
        if isinstance(value, list):
            inner = ",\n".join("    " + json.dumps(v, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
                               for v in value)
            parts.append(f"  {json.dumps(key)}: [\n{inner}\n  ]")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(data)
    print(f"  wrote {path.relative_to(ROOT)} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})")


CONFIG_TEMPLATE = """\
# Triton-layout model config for the example fraud model (written by models/fraud/train.py).
#
# infergate reads the standard fields plus these parameters:
#   infergate.preprocess      file (beside this one) with the preprocessing spec, docs/preprocess.md;
#                             raw records are turned into the "features" tensor natively.
#   infergate.score_output    the model output holding the score.
#   infergate.score_index     the column of that output that is the score (1 = P(fraud)).
#   infergate.decision_bands  "name:threshold,..." in increasing order; the decision is the band
#                             with the highest threshold that the score strictly exceeds, else "allow".
#   infergate.drift.reference the score histogram on held-out data (written by train.py): live
#                             scores are compared with it (PSI) to detect drift, docs/rollouts.md.
#   infergate.sparse_seal_gap_microseconds
#                             a batch opened more than this after the previous one (a stream too
#                             sparse for company within the queue delay) goes at once instead of
#                             waiting; 6 queue delays here, so a steady stream keeps batching even when
#                             its producer's timer runs a millisecond late.
name: "fraud"
platform: "onnxruntime_onnx"
max_batch_size: 256
input [ {{ name: "features" data_type: TYPE_FP32 dims: [ {width} ] }} ]
output [ {{ name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] }} ]
version_policy: {{ latest: {{ num_versions: 1 }} }}
instance_group [ {{ kind: KIND_CPU count: 1 }} ]
dynamic_batching {{
  preferred_batch_size: [ 32, 64 ]
  max_queue_delay_microseconds: 500
  default_queue_policy {{
    timeout_action: REJECT
    default_timeout_microseconds: 0
    allow_timeout_override: true
    max_queue_size: 4096
  }}
}}
parameters {{ key: "infergate.preprocess" value: {{ string_value: "preprocess.json" }} }}
parameters {{ key: "infergate.score_output" value: {{ string_value: "probabilities" }} }}
parameters {{ key: "infergate.score_index" value: {{ string_value: "1" }} }}
parameters {{ key: "infergate.decision_bands" value: {{ string_value: "{bands}" }} }}
parameters {{ key: "infergate.drift.reference" value: {{ string_value: "reference_scores.json" }} }}
parameters {{ key: "infergate.sparse_seal_gap_microseconds" value: {{ string_value: "3000" }} }}
"""


def ort_session(model_bytes: bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # fixed summation order, same scores on any machine
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, sess_options=so, providers=["CPUExecutionProvider"])


def ort_scores(sess: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
    label, proba = sess.run(["label", "probabilities"], {OUTPUT_NAME: x.astype(np.float32)})
    assert label.dtype == np.int64 and proba.dtype == np.float32 and proba.shape == (len(x), 2)
    return proba


def main() -> None:
    versions = {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "onnx": onnx.__version__,
        "onnxmltools": onnxmltools.__version__,
        "onnxruntime": ort.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    print("versions:", ", ".join(f"{k} {v}" for k, v in versions.items()))

    rng = np.random.default_rng(SEED)
    cols, y = make_dataset(rng, N_ROWS)
    df = to_frame(cols)
    idx_train, idx_test = train_test_split(np.arange(N_ROWS), test_size=TEST_FRACTION, random_state=SEED, stratify=y)
    x_train, x_test = df.iloc[idx_train].reset_index(drop=True), df.iloc[idx_test].reset_index(drop=True)
    y_train, y_test = y[idx_train], y[idx_test]
    print(f"data: {N_ROWS} rows, fraud rate {y.mean():.4f}; train {len(y_train)}, test {len(y_test)}")

    pipe = build_pipeline()
    pipe.fit(x_train, y_train)
    columns: ColumnTransformer = pipe.named_steps["preprocess"]
    clf: XGBClassifier = pipe.named_steps["model"]

    t_test = columns.transform(x_test)
    assert t_test.dtype == np.float64
    width = int(t_test.shape[1])
    p_xgb = clf.predict_proba(t_test)[:, 1]
    auc = float(roc_auc_score(y_test, p_xgb))
    print(f"test AUC {auc:.4f}  (width {width})")

    # The infrequent one-hot column is last for merchant_category; unseen strings land there.
    ohe: OneHotEncoder = columns.named_transformers_["merchant_category"].named_steps["one_hot"]
    probe = ohe.transform(np.array([["no_such_category"], [ohe.infrequent_categories_[0][0]]], dtype=object))
    assert probe[:, -1].tolist() == [1.0, 1.0] and probe[:, :-1].sum() == 0.0

    # --- preprocess.json -------------------------------------------------------------------
    spec = export_preprocess(columns, width)
    spec_text = dumps(spec)
    spec = json.loads(spec_text)  # everything below uses the file's content, as served

    # --- model.onnx: the trees only ---------------------------------------------------------
    onx = onnxmltools.convert_xgboost(
        clf, name="fraud", initial_types=[(OUTPUT_NAME, FloatTensorType([None, width]))], target_opset=15
    )
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"], [o.name for o in onx.graph.output]
    assert [i.name for i in onx.graph.input] == [OUTPUT_NAME]
    onx.doc_string = "infergate example fraud model: XGBoost trees over the preprocess.json features"
    for value in list(onx.graph.input) + list(onx.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"  # the dynamic batch dimension, named
    onnx.checker.check_model(onx)
    model_bytes = onx.SerializeToString()
    sess = ort_session(model_bytes)
    p_ort = ort_scores(sess, t_test)
    diff = float(np.max(np.abs(p_ort[:, 1].astype(np.float64) - p_xgb)))
    print(f"onnxruntime vs xgboost max |diff| on the test split: {diff:.3g}")
    assert diff <= 1e-5, diff
    auc_onnx = float(roc_auc_score(y_test, p_ort[:, 1]))

    # --- golden fixtures ---------------------------------------------------------------------
    bucket = next(s for f in spec["features"] for s in f["steps"] if s["op"] == "bucketize")
    golden_rows = make_golden_records(rng, x_test, bucket["boundaries"])
    golden_t = columns.transform(records_to_frame(golden_rows))
    golden_p = ort_scores(sess, golden_t)[:, 1]

    # --- self-check: the spec, applied as written, equals the ColumnTransformer --------------
    def check(records: list[dict], expected: np.ndarray, what: str) -> None:
        got = apply_spec(spec, records)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        bad = ~np.isclose(got, expected, rtol=1e-9, atol=1e-12)
        assert not bad.any(), f"{what}: spec != ColumnTransformer at {np.argwhere(bad)[:5].tolist()}"
        same32 = int(np.all(got.astype(np.float32) == expected.astype(np.float32), axis=1).sum())
        score_diff = float(np.max(np.abs(ort_scores(sess, got)[:, 1] - ort_scores(sess, expected)[:, 1])))
        assert score_diff <= 1e-6, score_diff
        print(f"self-check ({what}): preprocess.json semantics == ColumnTransformer on {len(records)} rows "
              f"(float32 tensors identical in {same32}; max score diff {score_diff:.3g})")

    check(golden_rows, golden_t, "golden")
    check(frame_to_records(x_test.iloc[:20_000]), t_test[:20_000], "held-out")

    n_missing = sum(any(r.get(f["name"]) is None for f in FIELDS) for r in golden_rows)
    n_null = sum(any(k in r and r[k] is None for k in FIELD_NAMES) for r in golden_rows)
    m_seen = set(ohe.categories_[0])
    c_seen = set(columns.named_transformers_["currency"].named_steps["encode"].categories_[0])
    n_unseen_m = sum(isinstance(r.get("merchant_category"), str) and r["merchant_category"] not in m_seen
                     for r in golden_rows)
    n_unseen_c = sum(isinstance(r.get("currency"), str) and r["currency"] not in c_seen for r in golden_rows)
    rare_set = set(ohe.infrequent_categories_[0])
    n_rare = sum(r.get("merchant_category") in rare_set for r in golden_rows)
    print(f"golden: {n_missing} rows with a missing value ({n_null} with a null), "
          f"{n_unseen_m} unseen merchant categories, {n_unseen_c} unseen currencies, {n_rare} rare categories")
    assert min(n_missing, n_null, n_missing - n_null, n_unseen_m, n_unseen_c, n_rare) > 20

    golden = {
        "description": (
            "Raw records drawn from the held-out split of models/fraud/train.py's synthetic data, with "
            "missing values (absent key or null), unseen and rare categories, values on bucketize "
            "boundaries and extremes mixed in. tensors[i] is what the fitted scikit-learn "
            "ColumnTransformer produced for rows[i] (float64, full precision); scores[i] is "
            "probabilities[:, 1] that onnxruntime computed from models/fraud/1/model.onnx fed "
            "tensors[i] cast to float32. preprocess.json applied to rows[i] must give tensors[i]."
        ),
        "generated_by": "models/fraud/train.py",
        "sklearn_version": sklearn.__version__,
        "onnxruntime_version": ort.__version__,
        "width": width,
        "rows": golden_rows,
        "tensors": [[float(v) for v in row] for row in golden_t],
        "scores": [float(v) for v in golden_p],
    }

    # --- example record, metrics, reference scores ----------------------------------------
    test_records = frame_to_records(x_test.iloc[:2_000])
    example = next(r for r, label in zip(test_records, y_test[:2_000])
                   if len(r) == len(FIELDS) and not r["card_present"] and r["txn_count_1h"] >= 1 and label == 0)

    counts, _ = np.histogram(p_ort[:, 1].astype(np.float64), bins=20, range=(0.0, 1.0))
    reference = {
        "description": (
            "Histogram of the model's fraud score (probabilities[:, 1] from model.onnx via onnxruntime) "
            "on the held-out split: 20 equal-width bins over [0, 1]; bin i covers [i/20, (i+1)/20), "
            "the last bin also includes 1. Baseline for score-drift monitoring."
        ),
        "generated_by": "models/fraud/train.py",
        "score_output": "probabilities",
        "score_index": 1,
        "n": int(len(p_ort)),
        "bin_edges": [i / 20 for i in range(21)],
        "counts": [int(c) for c in counts],
        "fractions": [float(c) / len(p_ort) for c in counts],
        "mean_score": float(np.mean(p_ort[:, 1].astype(np.float64))),
    }
    assert sum(reference["counts"]) == reference["n"]

    bands = [(b.split(":")[0], float(b.split(":")[1])) for b in DECISION_BANDS.split(",")]
    decision_rates = {}
    for name, thr in bands:
        decision_rates[name] = float(np.mean(p_ort[:, 1] > thr))
    metrics = {
        "model": "fraud",
        "generated_by": "models/fraud/train.py",
        "seed": SEED,
        "rows": {"total": N_ROWS, "train": int(len(y_train)), "test": int(len(y_test))},
        "fraud_rate": {"total": float(y.mean()), "train": float(y_train.mean()), "test": float(y_test.mean())},
        "missing_rates_injected": MISSING_RATES,
        "test_auc": auc,
        "test_auc_onnx": auc_onnx,
        "onnx_vs_xgboost_max_abs_diff": diff,
        "width": width,
        "feature_names": [str(n) for n in columns.get_feature_names_out()],
        "xgboost_params": {k: v for k, v in sorted(clf.get_params().items())
                           if k in ("n_estimators", "max_depth", "learning_rate", "subsample",
                                    "colsample_bytree", "min_child_weight", "tree_method", "objective")},
        "share_of_test_scores_above": {f"{name} ({thr})": r for (name, thr), r in zip(bands, decision_rates.values())},
        "versions": versions,
    }

    print("writing:")
    write(MODEL_DIR / "preprocess.json", spec_text)
    write(MODEL_DIR / "1" / "model.onnx", model_bytes)
    write(MODEL_DIR / "config.pbtxt", CONFIG_TEMPLATE.format(width=width, bands=DECISION_BANDS))
    write(MODEL_DIR / "example.json", dumps(example))
    write(MODEL_DIR / "metrics.json", dumps(metrics))
    write(MODEL_DIR / "reference_scores.json", dumps(reference))
    write(FIXTURE_DIR / "golden.json", dumps_lines(golden))
    print(f"done: test AUC {auc:.4f}, fraud rate {y.mean():.4f}, width {width}")


if __name__ == "__main__":
    main()
