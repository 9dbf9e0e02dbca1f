"""The paper's claims that `pkg-finalmlp reproduce` judges (spec "Small-scale reproduction", "Full").

Kinds (pkg_shared.claims): ``paper`` claims make the headline; ``check`` entries test this implementation;
``expect`` entries print an expected range beside the measured value, never judged.
"""

from pkg_shared.claims import Claim

from .config import AUC_RANGE, BARS, PAPER_AUC

ML100K = "ml100k-ctr (MovieLens-100K, rating >= 4, 8 fields, random 8:1:1)"

CLAIMS = [
    Claim(
        id="gate-identity-at-init",
        text="with empty contexts, at initialisation h_i == e exactly (bias 0 -> gate 0.5 -> factor 1)",
        where="Sec. 3.2, eq. (4)",
        metric="gate_identity_max_error",
        op="==",
        value=0.0,
        paper_value="2 x sigmoid(0) = 1",
        kind="check",
        basis="definition (exact in floating point)",
    ),
    Claim(
        id="finalmlp-vs-dualmlp",
        text="tuned FinalMLP mean test AUC >= tuned DualMLP - 0.003 on ml100k-ctr (FinalMLP - DualMLP, mean of seeds)",
        where="Table 2 (at CPU scale: parity)",
        metric="finalmlp_minus_dualmlp_auc",
        op=">=",
        value=-0.003,
        paper_value="+0.07 to +0.22 points",
        scale="small",
        basis="paper direction; parity margin 0.003 from the spec (the paper's gains are below CPU-scale seed noise)",
        dataset=ML100K,
    ),
    Claim(
        id="finalmlp-vs-dnn",
        text="tuned FinalMLP mean test AUC >= tuned DNN - 0.003 on ml100k-ctr (FinalMLP - DNN, mean of seeds)",
        where="Table 2 (at CPU scale: parity)",
        metric="finalmlp_minus_dnn_auc",
        op=">=",
        value=-0.003,
        paper_value="FinalMLP > DNN",
        scale="small",
        basis="paper direction; parity margin 0.003 from the spec",
        dataset=ML100K,
    ),
    Claim(
        id="tuned-auc-min",
        text="the lowest test AUC of the three tuned models on ml100k-ctr (mean of seeds)",
        where="spec small-scale protocol",
        metric="tuned_auc_min",
        op="in",
        value=AUC_RANGE,
        paper_value="0.74-0.78",
        scale="small",
        kind="expect",
        basis="spec's expected range",
        dataset=ML100K,
    ),
    Claim(
        id="tuned-auc-max",
        text="the highest test AUC of the three tuned models on ml100k-ctr (mean of seeds)",
        where="spec small-scale protocol",
        metric="tuned_auc_max",
        op="in",
        value=AUC_RANGE,
        paper_value="0.74-0.78",
        scale="small",
        kind="expect",
        basis="spec's expected range (an upper bound on our quality is never a verdict)",
        dataset=ML100K,
    ),
    *(
        Claim(
            id=f"{key}-finalmlp-auc",
            text=f"FinalMLP test AUC on {folder} at least the paper's minus 0.05 points (user-supplied BARS data)",
            where="Table 2",
            metric=f"{key}_finalmlp_auc",
            op=">=",
            value=round(PAPER_AUC[key] - 0.0005, 6),
            paper_value=PAPER_AUC[key],
            scale="full",
            basis="paper number (single-run RecZoo log), tolerance 0.05 points from the spec; one-sided: a higher "
            "AUC than the paper's never fails the claim",
            dataset=f"{folder} (BARS, user-supplied)",
        )
        for key, folder in BARS.items()
    ),
]
