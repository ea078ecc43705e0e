"""Score a clustering against labels: pairwise precision, recall, F1 and B-cubed F1."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True, kw_only=True)
class Scores:
    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_pairs: int
    predicted_pairs: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: dict[str, str], labels: dict[str, str]) -> Scores:
    """`predicted` and `labels` map each item id to its cluster; both must cover the same ids."""
    if predicted.keys() != labels.keys():
        raise ValueError("predicted and labelled ids differ")
    ids = sorted(labels)
    true_pairs = {(a, b) for a, b in combinations(ids, 2) if labels[a] == labels[b]}
    pred_pairs = {(a, b) for a, b in combinations(ids, 2) if predicted[a] == predicted[b]}
    hit = len(true_pairs & pred_pairs)
    precision = hit / len(pred_pairs) if pred_pairs else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_label: dict[str, set[str]] = defaultdict(set)
    for i in ids:
        by_pred[predicted[i]].add(i)
        by_label[labels[i]].add(i)
    b_p = sum(
        len(by_pred[predicted[i]] & by_label[labels[i]]) / len(by_pred[predicted[i]]) for i in ids
    )
    b_r = sum(
        len(by_pred[predicted[i]] & by_label[labels[i]]) / len(by_label[labels[i]]) for i in ids
    )
    b_p, b_r = b_p / len(ids), b_r / len(ids)
    return Scores(
        pair_precision=precision, pair_recall=recall, pair_f1=_f1(precision, recall),
        bcubed_precision=b_p, bcubed_recall=b_r, bcubed_f1=_f1(b_p, b_r),
        true_pairs=len(true_pairs), predicted_pairs=len(pred_pairs),
    )  # fmt: skip
