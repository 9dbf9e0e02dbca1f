"""The paper's claims that `pkg-finalmlp reproduce` judges (spec "Small-scale reproduction", "Full")."""

from pkg_shared.claims import Claim

from .experiment import BARS, PAPER_AUC

CLAIMS = [
    Claim(
        id="gate-identity-at-init",
        text="with empty contexts, at initialisation h_i == e exactly (bias 0 -> gate 0.5 -> factor 1)",
        where="Sec. 3.2, eq. (4)",
        metric="gate_identity_max_error",
        op="==",
        value=0.0,
        paper_value="2 x sigmoid(0) = 1",
    ),
    Claim(
        id="finalmlp-vs-dualmlp",
        text="tuned FinalMLP mean test AUC >= tuned DualMLP - 0.003 on ml100k-ctr (FinalMLP - DualMLP)",
        where="Table 2 (at CPU scale: parity)",
        metric="finalmlp_minus_dualmlp_auc",
        op=">=",
        value=-0.003,
        paper_value="+0.07 to +0.22 points",
        scale="small",
    ),
    Claim(
        id="finalmlp-vs-dnn",
        text="tuned FinalMLP mean test AUC >= tuned DNN - 0.003 on ml100k-ctr (FinalMLP - DNN)",
        where="Table 2 (at CPU scale: parity)",
        metric="finalmlp_minus_dnn_auc",
        op=">=",
        value=-0.003,
        paper_value="FinalMLP > DNN",
        scale="small",
    ),
    Claim(
        id="tuned-auc-range",
        text="every tuned model's test AUC on ml100k-ctr lies in 0.74-0.78 (every seed)",
        where="spec small-scale protocol",
        metric="tuned_auc_in_range",
        op="==",
        value=True,
        paper_value="0.74-0.78",
        scale="small",
    ),
    *(
        Claim(
            id=f"{key}-finalmlp-auc",
            text=f"FinalMLP test AUC on {folder} within 0.05 points of the paper (user-supplied BARS data)",
            where="Table 2",
            metric=f"{key}_finalmlp_auc",
            op="within",
            value=PAPER_AUC[key],
            tol=0.0005,
            paper_value=PAPER_AUC[key],
            scale="full",
        )
        for key, folder in BARS.items()
    ),
]
