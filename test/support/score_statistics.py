"""The reference computations the score-statistics tests compare infergate with: numpy for
histograms, percentiles and the PSI, scipy for the Kolmogorov-Smirnov statistic and distribution,
and xml.etree for checking that a rendered SVG is well-formed XML.

Reads one JSON request on stdin and prints one JSON answer, each key answered in kind:
  {"histogram": [{"values": [...], "edges": [...]}],   -> [[counts...]]
   "psi": [{"expected": [...], "actual": [...], "epsilon": 1e-4}],   -> [psi]
   "ks": [{"a": [...], "b": [...]}],                   -> [D]
   "kolmogorov": [y, ...],                              -> [P(K > y)]
   "percentiles": [{"values": [...], "q": [50, 99]}],   -> [[...]]
   "xml": ["<svg ...>"]}                                -> [{"tag", "series", "texts"}]

usage: python score_statistics.py < request.json
"""

import json
import sys
import xml.etree.ElementTree as ET

import numpy as np
from scipy import special, stats

SVG = "{http://www.w3.org/2000/svg}"


def histogram(values, edges):
    """numpy.histogram, with values outside the edges clamped into the end bins, as infergate does."""
    edges = np.asarray(edges, dtype=np.float64)
    clamped = np.clip(np.asarray(values, dtype=np.float64), edges[0], edges[-1])
    counts, _ = np.histogram(clamped, bins=edges)
    return [int(c) for c in counts]


def psi(expected, actual, epsilon):
    """Population stability index over shared bins; a proportion of exactly 0 becomes epsilon."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    pe = e / e.sum()
    pa = a / a.sum()
    pe = np.where(pe == 0, epsilon, pe)
    pa = np.where(pa == 0, epsilon, pa)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def svg_outline(text):
    root = ET.fromstring(text)
    series = [p.get("data-series") for p in root.iter(SVG + "path") if p.get("data-series")]
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    title = root.find(SVG + "title")
    return {"tag": root.tag, "series": series, "texts": texts, "title": None if title is None else title.text}


def main():
    request = json.load(sys.stdin)
    answer = {}
    if "histogram" in request:
        answer["histogram"] = [histogram(h["values"], h["edges"]) for h in request["histogram"]]
    if "psi" in request:
        answer["psi"] = [psi(p["expected"], p["actual"], p["epsilon"]) for p in request["psi"]]
    if "ks" in request:
        answer["ks"] = [float(stats.ks_2samp(k["a"], k["b"]).statistic) for k in request["ks"]]
    if "kolmogorov" in request:
        answer["kolmogorov"] = [float(special.kolmogorov(y)) for y in request["kolmogorov"]]
    if "percentiles" in request:
        answer["percentiles"] = [[float(v) for v in np.percentile(np.asarray(p["values"], dtype=np.float64), p["q"])] for p in request["percentiles"]]
    if "xml" in request:
        answer["xml"] = [svg_outline(text) for text in request["xml"]]
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
