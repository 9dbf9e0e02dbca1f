"""The claims that ``pkg-lighthgnn reproduce`` judges (spec "Small-scale reproduction").

Accuracy claims are judged on the mean over seeds (3 at ``small``) of per-seed differences in test
accuracy (points), with an HGNN teacher, lambda = 0, tau = 1 and the paper-correct KL (``--kd-variant
paper``). The paper's per-dataset numbers could not be retrieved, so every threshold is a direction or a
margin set in the spec before this package ran; none was moved after seeing a run. Speed claims are measured
once per run (first seed) on one CPU thread (the paper's ~100x is a GPU, large-graph figure: ``bench --device
cuda``).

Kinds: ``paper`` (the paper's claims), ``check`` (our own implementation: dhg's convolutions equal the
hand-computed operators; the pipeline transfers structure on the synthetic stand-in).
"""

from pkg_shared.claims import Claim

HYPERGRAPHS = {"cc-cora": "CC-Cora", "cc-citeseer": "CC-Citeseer", "ca-cora": "Cora-CA"}
STUDENT_NAMES = {"light_hgnn": "LightHGNN", "light_hgnnp": "LightHGNN+"}
PARITY = "2-point parity margin set in the spec before any run"


def _per_dataset() -> list[Claim]:
    claims = []
    for ds, ds_name in HYPERGRAPHS.items():
        for st, st_name in STUDENT_NAMES.items():
            claims.append(Claim(
                id=f"{ds}-{st}-vs-teacher",
                text=f"{ds_name}: {st_name} at parity with the HGNN teacher or better: test accuracy "
                     "difference >= -2 points (transductive)",
                where="Table 1", metric=f"{ds}/{st}_minus_teacher", op=">=", value=-2.0,
                paper_value="competitive or better", scale="small", dataset=ds,
                basis=f"paper direction ('competitive or even better than HGNNs'); {PARITY}",
            ))  # fmt: skip
            claims.append(Claim(
                id=f"{ds}-{st}-vs-mlp",
                text=f"{ds_name}: {st_name} test accuracy >= plain MLP + 8 points (difference, points)",
                where="Table 1, abstract (+16.3 on average)", metric=f"{ds}/{st}_minus_mlp", op=">=", value=8.0,
                paper_value="+16.3 (average)", scale="small", dataset=ds,
                basis="paper number (+16.3 points on average over the paper's datasets); the 8-point "
                      "threshold (about half) is the spec's, set before any run",
            ))  # fmt: skip
    return claims


def _production() -> list[Claim]:
    claims = []
    for ds, ds_name in HYPERGRAPHS.items():
        for st, st_name in STUDENT_NAMES.items():
            claims.append(Claim(
                id=f"prod-{ds}-{st}-ind-vs-teacher",
                text=f"{ds_name}, production setting: on the unobserved (inductive) test vertices, {st_name} "
                     "(features only) at parity with the HGNN teacher (full hypergraph) or better: accuracy "
                     "difference >= -2 points",
                where="production-setting experiment (official prod_train.py)",
                metric=f"prod/{ds}/{st}_minus_teacher_ind", op=">=", value=-2.0,
                paper_value="competitive (production setting)", scale="small", dataset=ds,
                basis="paper direction (students competitive with HGNN in the production setting; the "
                      f"paper's numbers were not retrieved); {PARITY}, carried over from Table 1's claims",
            ))  # fmt: skip
    return claims


AVERAGE = "mean difference over CC-Cora, CC-Citeseer and Cora-CA"

CLAIMS = [
    *_per_dataset(),
    Claim(
        id="light_hgnnp-parity-light_hgnn",
        text=f"LightHGNN+ at parity with LightHGNN or better: {AVERAGE} >= -0.5 points (a parity "
        "tolerance: it tests 'not worse', not the paper's 'higher')",
        where="Table 1, ablation",
        metric="light_hgnnp_minus_light_hgnn_avg",
        op=">=",
        value=-0.5,
        paper_value="LightHGNN+ higher",
        scale="small",
        basis="parity tolerance of 0.5 points set in the spec before any run; the paper's direction is "
        "judged by light_hgnnp-above-light_hgnn",
    ),
    Claim(
        id="light_hgnnp-above-light_hgnn",
        text=f"LightHGNN+ higher than LightHGNN: {AVERAGE} > 0 points",
        where="Table 1, ablation",
        metric="light_hgnnp_minus_light_hgnn_avg",
        op=">",
        value=0.0,
        paper_value="LightHGNN+ higher",
        scale="small",
        basis="paper direction (Table 1 and the ablation: LightHGNN+ above LightHGNN), no margin; added on "
        "review (issue 15) knowing that an earlier 3-seed run measured -0.02",
    ),
    *_production(),
    Claim(
        id="speed-warm-55k",
        text="55k vertices, 1 CPU thread: HGNN forward (operator prebuilt) / student forward (measured once)",
        where="speed figure (5.5w vertices)",
        metric="speed/hgnn_warm_ratio_55k",
        op=">=",
        value=3.0,
        paper_value="~100x (GPU)",
        scale="small",
        dataset="synthetic random hypergraph",
        deterministic=True,
        basis="paper direction (~100x on a GPU); the CPU threshold 3x is the spec's, set below its own "
        "independent measurement (6.4x) before this package ran",
    ),
    Claim(
        id="speed-cold-55k",
        text="55k vertices, 1 CPU thread: HGNN built from the hyperedge list + forward / student forward "
        "(measured once)",
        where="speed figure (5.5w vertices)",
        metric="speed/hgnn_cold_ratio_55k",
        op=">=",
        value=8.0,
        paper_value="~100x (GPU)",
        scale="small",
        dataset="synthetic random hypergraph",
        deterministic=True,
        basis="paper direction (~100x on a GPU); the CPU threshold 8x is the spec's, set below its own "
        "independent measurement (12.9x) before this package ran",
    ),
    Claim(
        id="speed-warm-grows",
        text="the warm HGNN / student ratio grows with N (ratio at 55k - ratio at 5k, measured once)",
        where="speed figure",
        metric="speed/hgnn_warm_ratio_growth",
        op=">",
        value=0.0,
        paper_value="gap widens with N",
        scale="small",
        dataset="synthetic random hypergraph",
        deterministic=True,
        basis="paper direction (the speed-up grows with the number of vertices)",
    ),
    Claim(
        id="synthetic-students-vs-mlp",
        text="hypergraph_sbm stand-in: LightHGNN+ >= plain MLP + 8 points (the pipeline transfers the "
        "hypergraph's signal on data built to carry it)",
        where="spec Data (stand-in)",
        metric="synthetic/light_hgnnp_minus_mlp",
        op=">=",
        value=8.0,
        paper_value="+16.3 (average, real data)",
        scale="small",
        kind="check",
        dataset="synthetic",
        basis="the generator's defaults were set so that an HGNN beats an MLP by ~25 points (spec: MLP "
        "~45-55%, HGNN ~70-80%); a check of our pipeline, not of the paper",
    ),
    Claim(
        id="dhg-conv-equals-operator",
        text="dhg's HGNNConv / HGNNPConv equal the hand-computed L = D_v^-1/2 H D_e^-1 H^T D_v^-1/2 and "
        "D_v^-1 H D_e^-1 H^T on each dataset's hypergraph (max |difference|)",
        where="spec Method 2, 'Tests that prove it is right'",
        metric="check/dhg_conv_max_abs_diff",
        op="<=",
        value=1e-5,
        paper_value="same operator",
        scale="smoke",
        kind="check",
        deterministic=True,
        basis="spec tolerance 1e-5 (float32 arithmetic)",
    ),
]
