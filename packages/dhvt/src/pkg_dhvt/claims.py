"""The paper's claims, judged by `pkg-dhvt reproduce` on numbers measured in the run.

Paper claims: DHVT's gain over a same-size ViT (Table 6), the share of it that SOPE + DAFF give without
head tokens (Table 5), and Table 4's CIFAR-100 accuracy (``full`` with CIFAR-100 only). Checks of this
implementation: the parameter counts. Expected ranges (printed, never judged): the head-token gains, on
a ViT (Table 6: +1.51) and on DHVT (Tables 5-6: +0.50), which the spec says not to assert at this scale.
"""

from pkg_shared.claims import Claim

CLAIMS = [
    Claim(
        id="dhvt_beats_vit",
        text="trained from scratch on a small dataset, DHVT beats a ViT of the same size by >= 10 points",
        where="Table 6 (DeiT-T 67.59 -> DHVT-T 80.85, +13.26)",
        metric="gain_dhvt_over_vit",
        op=">=",
        value=10.0,
        paper_value=13.26,
        scale="small",
        basis="paper number (+13.26, Table 6); threshold 10 from the spec, not calibrated on this protocol",
    ),
    Claim(
        id="sope_daff_beat_vit",
        text="SOPE + DAFF without head tokens (no PE) already beat the same-size ViT by >= 10 points",
        where="Table 5 (67.59 -> 80.35 without PE, +12.76)",
        metric="gain_sope_daff_over_vit",
        op=">=",
        value=10.0,
        paper_value=12.76,
        scale="small",
        basis="paper number (+12.76, Table 5); same threshold as dhvt_beats_vit",
    ),
    Claim(
        id="cifar100_dhvt_s_p2",
        text="DHVT-S (P2) reaches 85.68% top-1 on CIFAR-100 from scratch (300 epochs)",
        where="Table 4",
        metric="cifar100_dhvt_s_p2",
        op="within",
        value=85.68,
        tol=1.0,
        paper_value=85.68,
        scale="full",
        basis="paper number (best of 5 seeds); tolerance 1 point",
        dataset="cifar100 (data root cifar-100-python/)",
    ),
    Claim(
        id="head_tokens_on_vit",
        text="head tokens alone change a ViT's accuracy by a few points at most (paper: +1.51)",
        where="Table 6 (DeiT-T + head token 69.10)",
        metric="head_token_gain_on_vit",
        op="in",
        value=(-3.0, 3.0),
        paper_value=1.51,
        scale="small",
        kind="expect",
        basis="spec: 'stays within a few points'; not asserted at this scale",
    ),
    Claim(
        id="head_tokens_on_dhvt",
        text="head tokens on top of SOPE + DAFF add little (paper: +0.50)",
        where="Tables 5-6 (80.35 -> 80.85)",
        metric="head_token_gain_on_dhvt",
        op="in",
        value=(-3.0, 3.0),
        paper_value=0.5,
        scale="small",
        kind="expect",
        basis="spec: a head-token gain is within seed noise at this scale; not asserted",
    ),
    Claim(
        id="params_match_paper",
        text="the eight DHVT configurations have the paper's parameter counts (within 2%)",
        where="Tables 2-4",
        metric="params_max_dev_pct",
        op="<=",
        value=2.0,
        paper_value="T/S CIFAR P4 6.0/23.4M, P2 5.8/22.8M; DomainNet 6.1/23.8M; ImageNet 6.2/24.0M",
        kind="check",
        basis="paper numbers (rounded to 0.1M)",
        deterministic=True,
    ),
    Claim(
        id="params_cifar_exact",
        text="the four CIFAR variants match the spec's exact counts (100 classes)",
        where="spec, Table 4",
        metric="params_cifar_exact",
        op="==",
        value=True,
        paper_value="6,008,650 / 5,845,162 / 23,425,450 / 22,766,698",
        kind="check",
        basis="spec's independent re-implementation",
        deterministic=True,
    ),
]
