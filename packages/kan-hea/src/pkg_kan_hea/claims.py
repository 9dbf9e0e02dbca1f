"""The claims `pkg-kan-hea reproduce` judges (spec "Headline results" and "Tests").

The paper's claim, in its abstract, is a direction: in all three examples the KAN matches or beats the
MLP (F1 for classification, MSE / R2 for regression). Each ``paper`` claim compares the package's KAN with
the torch MLP on the same folds: the mean over folds, then over >= 3 seeds at ``small`` (the spread over
seeds is printed); ``*_kan_minus_mlp`` is KAN's metric minus the MLP's. The tolerances are the spec's
("KAN >= MLP - 0.03" for example 1, "- 0.05" for examples 2 and 3), fixed before any run here.

Two ``check`` entries test this implementation, not the paper: the [2, 5, 1] KAN fit of pykan's README
function, and the spec's expectation that a grid update preserves the network's function.
"""

from pkg_shared.claims import Claim

DIRECTION = "paper direction (abstract: KAN matches or outperforms MLP); tolerance from the spec table"

CLAIMS = [
    Claim(
        id="carbide-f1",
        text="example 1 (carbide single phase): KAN F1(S) matches or beats the MLP (KAN - MLP)",
        where="abstract; spec table, example 1",
        metric="carbide_f1_kan_minus_mlp",
        op=">=",
        value=-0.03,
        paper_value="KAN >= MLP",
        scale="small",
        kind="paper",
        basis=DIRECTION,
        dataset="hea-carbide-phase (stand-in, 116 labelled carbides)",
    ),
    Claim(
        id="strength-r2",
        text="example 2 (YS/UTS, GroupKFold by formula): KAN R2 matches or beats the MLP, worse target",
        where="abstract; spec table, example 2",
        metric="strength_r2_kan_minus_mlp",
        op=">=",
        value=-0.05,
        paper_value="KAN >= MLP",
        scale="small",
        kind="paper",
        basis=DIRECTION,
        dataset="hea-mpea-mechanical (stand-in, 276 tension rows)",
    ),
    Claim(
        id="hea-class-f1",
        text="example 3a (HEA vs non-HEA): KAN F1(HEA) matches or beats the MLP (KAN - MLP)",
        where="abstract; spec table, example 3",
        metric="hea_class_f1_kan_minus_mlp",
        op=">=",
        value=-0.05,
        paper_value="KAN >= MLP",
        scale="small",
        kind="paper",
        basis=DIRECTION,
        dataset="hea-mpea-mechanical (stand-in, microstructure label)",
    ),
    Claim(
        id="bulk-modulus-r2",
        text="example 3b (bulk modulus): KAN R2 of K matches or beats the MLP (KAN - MLP)",
        where="abstract; spec table, example 3",
        metric="bulk_modulus_r2_kan_minus_mlp",
        op=">=",
        value=-0.05,
        paper_value="KAN >= MLP",
        scale="small",
        kind="paper",
        basis=DIRECTION,
        dataset="hea-elastic-dft (stand-in, 170 DFT compositions)",
    ),
    Claim(
        id="closed-form-fit",
        text="a [2,5,1] KAN fits exp(sin(pi x) + y^2) on 1,000 points: test RMSE",
        where="pykan README example; spec Tests",
        metric="expsin_test_rmse",
        op="<",
        value=0.05,
        paper_value="< 0.05",
        kind="check",
        basis="spec Tests (pykan's README example), threshold fixed by the spec",
        dataset="synthetic exp(sin(pi x) + y^2)",
    ),
    Claim(
        id="grid-update-preserves",
        text="grid updates during training (pykan schedule, after the first) change the output by < 1e-3",
        where="spec Tests (pykan update_grid)",
        metric="grid_update_max_change",
        op="<",
        value=1e-3,
        paper_value="< 1e-3",
        kind="check",
        basis="spec Tests ('grid update preserves the function, max change < 1e-3'), threshold fixed by the spec",
        dataset="synthetic exp(sin(pi x) + y^2)",
    ),
]
