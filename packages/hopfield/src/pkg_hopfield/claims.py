"""The paper's claims that `pkg-hopfield reproduce` judges (spec "Small-scale reproduction").

Kinds: ``paper`` entries are the paper's statements (theorems, regimes, Table 1, the small-data ranking)
judged on numbers measured in the run; ``check`` entries test this package's own code (the classical
baseline works below its capacity). Thresholds come from the paper's numbers or directions, or from the
spec's own measurement where the paper gives none (each ``basis`` says which). Every claim is judged on
the mean over the run's seeds (3 at ``small``), the spread printed beside it.
"""

from pkg_shared.claims import Claim

TABULAR_SETS = ("breast_cancer", "wine", "iris", "digits")
PAPER_MIL_AUC = {"tiger": 0.913, "fox": 0.6405, "elephant": 0.949}  # Table 1, HopfieldPooling

_SPEC = "spec's measurement (numpy, 200 queries)"

CLAIMS = [
    Claim(
        id="one-step-retrieval",
        text="beta = 0.5, 8 of 64 bits flipped: one update retrieves every pattern exactly, N up to 2048 = 32 d "
        "(min over N of exact recovery %)",
        where="Thm. 3-5; spec retrieval table",
        metric="modern_b0.5_f8_min",
        op=">=",
        value=95.0,
        paper_value=100.0,
        basis=f"paper direction (one-step retrieval, exponential capacity); {_SPEC} 100% minus 5 points",
    ),
    Claim(
        id="retrieval-16-flips-n128",
        text="beta = 0.5, 16 bits flipped, N = 128 = 2 d: exact recovery (%)",
        where="Thm. 3-5; spec retrieval table",
        metric="modern_b0.5_f16_n128",
        op=">=",
        value=95.0,
        paper_value=100.0,
        scale="small",
        basis=f"paper direction; {_SPEC} 100% minus 5 points",
    ),
    Claim(
        id="retrieval-16-flips-n2048",
        text="beta = 0.5, 16 bits flipped, N = 2048 = 32 d: exact recovery (%)",
        where="Thm. 3 (exponential capacity); spec retrieval table",
        metric="modern_b0.5_f16_n2048",
        op=">=",
        value=87.0,
        paper_value=92.0,
        scale="small",
        basis=f"paper direction; {_SPEC} 92% minus 5 points",
    ),
    Claim(
        id="classical-collapse",
        text="the classical Hebbian net (capacity ~0.14 d ~ 9) fails beyond it: N = 32, 8 flips, exact recovery (%)",
        where="Sec. 1 (classical capacity); spec retrieval table",
        metric="classical_f8_n32",
        op="<=",
        value=5.0,
        paper_value=0.0,
        basis=f"paper direction (capacity ~0.14 d); {_SPEC} 0% plus 5 points (an error rate of the baseline)",
    ),
    Claim(
        id="classical-below-capacity",
        text="our classical Hebbian net works below its capacity: N = 8, 8 flips, exact recovery (%)",
        where="spec retrieval table (baseline)",
        metric="classical_f8_n8",
        op=">=",
        value=94.0,
        paper_value=99.0,
        kind="check",
        basis=f"{_SPEC} 99% minus 5 points",
    ),
    Claim(
        id="energy-monotone",
        text="E never increases under the update rule (1000 random instances, float64, 20 steps): increases",
        where="Thm. 1",
        metric="energy_increases",
        op="==",
        value=0,
        paper_value=0,
        basis="paper theorem (Thm. 1)",
    ),
    Claim(
        id="energy-bounds",
        text="0 <= E <= 2 M^2 along the iterates: violations",
        where="Lemma A1",
        metric="energy_bound_violations",
        op="==",
        value=0,
        paper_value=0,
        basis="paper lemma (Lemma A1)",
    ),
    Claim(
        id="low-beta-global-average",
        text="small beta (0.001): every fixed point is the global average (fraction, n_eff > N/2)",
        where="Sec. 2, fixed points",
        metric="low_beta_global_fraction",
        op="==",
        value=1.0,
        paper_value=1.0,
        basis="paper direction (three kinds of fixed points)",
    ),
    Claim(
        id="high-beta-single-patterns",
        text="large beta (1.0), random patterns: every fixed point is a single pattern (fraction, n_eff < 1.5)",
        where="Sec. 2, fixed points",
        metric="high_beta_single_fraction",
        op="==",
        value=1.0,
        paper_value=1.0,
        basis="paper direction (three kinds of fixed points)",
    ),
    Claim(
        id="metastable-states",
        text="clusters of similar patterns: metastable states averaging a cluster (max fraction over beta)",
        where="Sec. 2, fixed points",
        metric="clustered_max_metastable_fraction",
        op=">=",
        value=0.9,
        paper_value="exist",
        basis="paper direction (metastable states exist); 0.9 is this package's threshold, not the paper's",
    ),
    Claim(
        id="mil-bits-hopfield",
        text="HopfieldPooling solves the bit-pattern MIL task (test accuracy, 30 epochs)",
        where="hflayers bit-pattern demo",
        metric="bits_hopfield_accuracy",
        op=">=",
        value=0.95,
        paper_value=">= 0.95",
        scale="small",
        basis="spec's target for the hflayers demo (not a number of the paper)",
    ),
    Claim(
        id="mil-bits-vs-mean",
        text="mean pooling is clearly worse on bit-pattern MIL (Hopfield - mean test accuracy)",
        where="hflayers bit-pattern demo",
        metric="bits_hopfield_minus_mean",
        op=">=",
        value=0.1,
        paper_value="clearly worse",
        scale="small",
        basis="spec direction ('mean pooling clearly worse'); 0.1 is this package's margin",
    ),
    *[
        Claim(
            id=f"mil-{name}-auc",
            text=f"{name.capitalize()}: HopfieldPooling ROC-AUC at least Table 1's minus 5 points "
            "(10-fold CV, fixed settings, 30 epochs)",
            where="Table 1",
            metric=f"mil_{name}_auc",
            op=">=",
            value=round(value - 0.05, 4),
            paper_value=value,
            scale="small",
            dataset="mil-tiger-fox-elephant",
            basis="paper number (Table 1) minus the spec's 5-point tolerance for the reduced protocol",
        )
        for name, value in PAPER_MIL_AUC.items()
    ],
    *[
        Claim(
            id=f"uci-{name}-vs-baselines",
            text=f"{name}: HopfieldLayer classifier within 2 points of the best of SVC / RF / MLP "
            "(accuracy gap, stratified 5-fold CV)",
            where="Sec. 4.3, Table 2 (spec stand-in)",
            metric=f"uci_{name}_gap",
            op=">=",
            value=-2.0,
            paper_value="best mean rank",
            scale="small",
            dataset=f"scikit-learn {name}",
            basis="paper direction (best mean rank on small data), spec's 2-point margin; every method's "
            "settings calibrated on seeds 100-102 (README), judged on seeds 0-2",
            post_hoc="the per-dataset calibration of every method was added after the one-seed claim failed "
            "at seed 1 with fixed settings (and, earlier, the layer's structure was changed to hflayers' "
            "default after a failure); the 2-point margin is unchanged",
        )
        for name in TABULAR_SETS
    ],
]
