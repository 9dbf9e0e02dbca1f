"""The survey's claims that `pkg-quantization reproduce` judges (spec "Small-scale reproduction").

Rows 1-4 keep the first and last layers in FP32; rows 5-6 quantise every layer. Accuracies are test
accuracies in percent, differences in points, means over the seeds (3 at ``small``).

Three claims compare methods with a margin that the spec took from one Fashion-MNIST run (2, 3a, 4a):
those margins belong to that dataset, so each of these claims is declared twice, once with the spec's
margin for ``fashion-mnist-subset`` and once with a margin calibrated for ``digits`` (the offline
default) on seeds 100-102, which never judge (the rule and the calibration numbers are in the README).
On any other dataset both are ``not run``. The other claims' thresholds are paper numbers or the spec's
tolerances and apply to every dataset.
"""

from pkg_shared.claims import Claim

SPEC_FASHION = (
    "spec number: the margin the spec set from its Fashion-MNIST run (seed 0, a minimal implementation)"
)
DIGITS_CALIBRATED = (
    "calibrated on seeds 100-102 (README): half the calibration mean gap, at least 2 standard errors"
)


def _per_dataset(
    id: str, text: str, where: str, metric: str, fashion: float, digits: float, paper_value: str
) -> list[Claim]:
    """A comparison whose margin belongs to one dataset: the spec's for Fashion-MNIST, a calibrated one
    for digits (metrics ``<metric>@<dataset>``, filled by ``experiment.per_dataset``)."""
    return [
        Claim(
            id=f"{id}{suffix}",
            text=text.format(margin=margin),
            where=where,
            metric=f"{metric}@{dataset}",
            op=">=",
            value=margin,
            paper_value=paper_value,
            scale="small",
            basis=basis,
            dataset=dataset,
        )
        for suffix, dataset, margin, basis in (
            ("", "fashion-mnist-subset", fashion, SPEC_FASHION),
            ("-digits", "digits", digits, DIGITS_CALIBRATED),
        )
    ]


CLAIMS = [
    Claim(
        id="1-int8-ptq",
        text="W8A8 PTQ (every granularity and calibrator) is within 0.5 points of FP32 (max |drop|)",
        where="Sec. IV-B (PTQ); HAWQ-V3 INT8 ~ FP32",
        metric="w8a8_max_abs_drop",
        op="<=",
        value=0.5,
        paper_value="INT8 ~ FP32 (within ~0.1-0.5 pt)",
        scale="small",
        basis="paper number: INT8 within ~0.5 points of FP32 (HAWQ-V3, cited by the survey)",
    ),
    *_per_dataset(
        "2-per-channel",
        "W2A8 PTQ: per-channel beats per-tensor by >= {margin} points (mean over calibrators)",
        "Sec. III-E (granularity)",
        "w2a8_perchannel_minus_pertensor",
        fashion=10.0,
        digits=2.5,
        paper_value="per-channel better at low bits",
    ),
    *_per_dataset(
        "3a-clipping",
        "W4A4: best clipping calibrator (MSE or percentile, mean over granularities) >= min-max + {margin}",
        "Sec. III-B (range calibration)",
        "a4_best_clip_minus_minmax",
        fashion=0.3,
        digits=1.2,
        paper_value="clipping beats min-max",
    ),
    Claim(
        id="3b-kl",
        text="W4A4: KL calibration >= min-max - 0.5 (mean over granularities)",
        where="Sec. III-B (range calibration)",
        metric="a4_kl_minus_minmax",
        op=">=",
        value=-0.5,
        paper_value="KL ~ or better than min-max",
        scale="small",
        basis="spec tolerance (paper direction: KL at least as good as min-max)",
    ),
    *_per_dataset(
        "4a-qat-vs-ptq",
        "W2A4 per-channel: QAT (2 epochs, STE) >= PTQ + {margin} points",
        "Sec. IV-A (QAT) vs IV-B (PTQ)",
        "qat_minus_ptq_w2a4",
        fashion=30.0,
        digits=4.3,
        paper_value="QAT recovers low-bit loss",
    ),
    Claim(
        id="4b-qat-vs-fp32",
        text="W2A4 QAT is within 4 points of the FP32 model fine-tuned for the same 2 epochs",
        where="Sec. IV-A (QAT)",
        metric="qat_minus_fp32_finetuned",
        op=">=",
        value=-4.0,
        paper_value="close to FP32",
        scale="small",
        basis="spec tolerance (4 points, a lower bound on QAT's accuracy; paper direction: QAT ~ FP32)",
    ),
    Claim(
        id="5a-mixed-vs-uniform",
        text="Hessian mixed precision (<= 3 avg bits, all layers, A8) >= uniform W3 - 0.5 points",
        where="Sec. IV-B (mixed precision), HAWQ-v2",
        metric="mixed_minus_uniform",
        op=">=",
        value=-0.5,
        paper_value="beats uniform at equal size",
        scale="small",
        basis="spec threshold, set before any measurement (paper direction)",
    ),
    Claim(
        id="5b-mixed-vs-reverse",
        text="Hessian mixed precision >= reverse-sensitivity allocation + 2 points",
        where="Sec. IV-B (mixed precision), HAWQ-v2",
        metric="mixed_minus_reverse",
        op=">=",
        value=2.0,
        paper_value="sensitivity matters",
        scale="small",
        basis="spec threshold, set before any measurement (paper direction)",
    ),
    Claim(
        id="fakequant-bit-exact",
        text="our fake quantisation equals torch.fake_quantize_per_{tensor,channel}_affine bit for bit",
        where="Sec. III-A, Eqs. 2-4",
        metric="fakequant_bit_exact",
        op="==",
        value=True,
        paper_value="exact",
        kind="check",
        basis="definition: torch's kernels",
    ),
    Claim(
        id="integer-only-linear",
        text="integer-only Linear with dyadic requantisation matches fake quantisation within 1 LSB",
        where="Sec. III-F (integer-only, dyadic)",
        metric="integer_linear_max_lsb",
        op="<=",
        value=1,
        paper_value="<= 1 LSB",
        kind="check",
        basis="spec: rounding of the dyadic multiplier may move one LSB",
    ),
    Claim(
        id="6-torch-ao",
        text="our all-layer W8A8 PTQ (logits quantised as torch.ao does) and torch.ao's int8 model "
        "disagree on <= 5.2% of the test images (top-1)",
        where="reference: torch.ao.quantization eager static PTQ",
        metric="torch_ao_top1_disagreement",
        op="<=",
        value=5.2,
        paper_value="equal",
        scale="small",
        kind="check",
        basis="calibrated on digits seeds 100-102 (README): twice the largest calibration disagreement",
    ),
]
