"""The explorer's outputs: recommendations, ``report.md``, ``report.json`` and plots."""

import json
from pathlib import Path


__all__ = ["recommend", "normalize", "write_json", "write_markdown", "write_plots"]


def _fmt_db(v):
    return "exact" if v is None else f"{v:.1f}"


def _loss(row, label, base):
    """SQNR loss (dB) of ``label`` against ``base`` in one layer row (0 when exact)."""
    ref = row["schemes"][base]["sqnr_db"]
    val = row["schemes"][label]["sqnr_db"]
    if val is None:
        return 0.0
    if ref is None:
        return float("inf")
    return ref - val


def recommend(rows, *, q_bits, group_sizes, budget_db, capacity, max_group_size, alive):
    """Per layer: the smallest group size whose output SQNR is within ``budget_db`` of the
    ``OUT`` scheme (exact accumulation, the result quantized once to ``q_bits``: the best any
    ``q_bits`` result can do), among the sizes the engine runs (``<= max_group_size``).

    Parameters
    ----------
    rows : list of dict
        :meth:`apsq_rae.explore.sweep.Explorer.layer_sweep` rows.
    capacity : callable
        ``gs -> addresses the buffer holds``.
    alive : callable
        ``(dataflow, row) -> addresses alive at once``.

    Returns
    -------
    list of dict
        ``name``, ``gs`` (None when no size fits the budget), ``loss_db``, ``capacity``,
        ``fits`` (dataflow -> bool), ``best_gs`` / ``best_loss_db`` over all swept sizes.
    """
    out = []
    for row in rows:
        losses = {gs: _loss(row, f"APSQ q{q_bits} gs{gs}", f"OUT q{q_bits}")
                  for gs in group_sizes}
        best = min(losses, key=lambda g: (losses[g], g))
        ok = [gs for gs in group_sizes if gs <= max_group_size and losses[gs] <= budget_db]
        gs = min(ok) if ok else None
        rec = {"name": row["name"], "gs": gs, "loss_db": None if gs is None else losses[gs],
               "best_gs": best, "best_loss_db": losses[best],
               "capacity": None if gs is None else capacity(gs), "fits": {}}
        for dataflow in ("ws", "is"):
            rec["fits"][dataflow] = None if gs is None else alive(dataflow, row) <= capacity(gs)
        out.append(rec)
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and obj != obj or obj in (float("inf"), float("-inf")):
        return None
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def normalize(result):
    """The result as JSON holds it: string keys, ``None`` for infinities (what
    :func:`write_markdown` and :func:`write_plots` expect)."""
    return json.loads(json.dumps(_jsonable(result)))


def write_json(path, result):
    Path(path).write_text(json.dumps(_jsonable(result), indent=1) + "\n")


def _short(name):
    return (name.replace("encoder.layer.", "L").replace("attention.self.", "")
            .replace("attention.output.dense", "attn_out").replace("intermediate.dense", "ffn1")
            .replace("output.dense", "ffn2"))


def write_markdown(path, result):
    """``report.md``: setup, end-to-end table, per-layer tables, energy, recommendations."""
    cfg = result["config"]
    q0 = cfg["q_bits"][0]
    gss = cfg["group_sizes"]
    lines = [f"# APSQ explorer report: {result['model']}", ""]
    lines += ["## Setup", "",
              f"- model: {result['model']}; {cfg['calib_sentences']} calibration sentences, "
              f"{cfg['eval_sentences']} evaluation sentences ({result['eval_tokens']} tokens), "
              "disjoint sets",
              f"- W8A8: weights INT8 per {cfg['weight_granularity']}, activations INT8 per "
              f"{cfg['act_granularity']} ({'static, calibrated' if cfg['act_granularity'] == 'tensor' else 'dynamic'})",
              f"- PSUM tiles over input-channel chunks of {cfg['chunk']}, {cfg['lanes']} lanes; "
              f"exponents per {'layer' if cfg['exp_granularity'] == 'layer' else 'layer and output block'} and step, power of two, calibrated "
              f"(percentile {cfg['percentile']:g} of |PSUM|), {cfg['exp_bits']}-bit, "
              f"rounding {cfg['rounding']}",
              f"- error budget for the recommendation: {cfg['budget_db']:g} dB of layer output "
              f"SQNR below OUT (exact accumulation, result quantized once), at q_bits {q0}",
              "- schemes: INT32 = exact accumulation (W8A8 error only); OUT = exact "
              "accumulation, result quantized once to q_bits (the floor of any q_bits "
              "result); PSQ = every tile quantized alone, all kept until the end; APSQ gs g "
              "= spec section 3", ""]

    lines += ["## End to end: cosine similarity of sentence embeddings to the float model", "",
              "mean (min) over the evaluation sentences.", ""]
    e2e = result["end_to_end"]
    head = ["q_bits", "OUT", "PSQ"] + [f"gs {g}" for g in gss]
    lines += [f"INT32 accumulation (W8A8 only): {e2e['INT32']['cos_mean']:.4f} "
              f"({e2e['INT32']['cos_min']:.4f})", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in cfg["q_bits"]:
        cells = [str(q)] + [f"{e2e[f'{k} q{q}']['cos_mean']:.4f} "
                            f"({e2e[f'{k} q{q}']['cos_min']:.4f})" for k in ("OUT", "PSQ")]
        cells += [f"{e2e[f'APSQ q{q} gs{g}']['cos_mean']:.4f} "
                  f"({e2e[f'APSQ q{q} gs{g}']['cos_min']:.4f})" for g in gss]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Correlation of all sentence-pair similarities with the float model's "
              f"(INT32: {e2e['INT32']['sim_corr']:.4f}):", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in cfg["q_bits"]:
        cells = [str(q)] + [f"{e2e[f'{k} q{q}']['sim_corr']:.4f}" for k in ("OUT", "PSQ")]
        cells += [f"{e2e[f'APSQ q{q} gs{g}']['sim_corr']:.4f}" for g in gss]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")

    for q in cfg["q_bits"]:
        lines += [f"## Per layer, q_bits {q}: output SQNR (dB) against the float layer", "",
                  "Each layer gets the float model's input. `PSUM` columns are the SQNR of the "
                  "accumulated integers against exact INT32 accumulation.", ""]
        head = ["layer", "K", "N", "steps", "INT32", "OUT", "PSQ"] + [f"gs {g}" for g in gss] \
            + ["PSUM gs 1", f"PSUM gs {gss[-1]}", "sat gs 1"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in result["layers"]:
            s = row["schemes"]
            cells = [_short(row["name"]), str(row["K"]), str(row["N"]), str(row["n_steps"]),
                     _fmt_db(s["INT32"]["sqnr_db"]), _fmt_db(s[f"OUT q{q}"]["sqnr_db"]),
                     _fmt_db(s[f"PSQ q{q}"]["sqnr_db"])]
            cells += [_fmt_db(s[f"APSQ q{q} gs{g}"]["sqnr_db"]) for g in gss]
            cells += [_fmt_db(s[f"APSQ q{q} gs{gss[0]}"]["psum_sqnr_db"]),
                      _fmt_db(s[f"APSQ q{q} gs{gss[-1]}"]["psum_sqnr_db"]),
                      f"{s[f'APSQ q{q} gs{gss[0]}']['sat']:.3%}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    en = result["energy"]
    p = en["params"]
    lines += ["## PSUM traffic and energy against INT32", "",
              f"Buffer: {p['max_group_size']} banks x {p['depth']} rows x {p['lanes']} lanes "
              f"(INT32 baseline: same SRAM bits). SRAM {p['sram_pj_per_bit']:.4g} pJ/bit, "
              f"DRAM {p['dram_pj_per_bit']:.4g} pJ/bit (Horowitz ISSCC 2014, 45 nm). Alive "
              f"addresses: WS {p['ws_rows']} tokens; IS {p['is_rows']} tokens x output blocks. "
              "Reduction of PSUM-access energy only (not of the whole accelerator).", ""]
    head = ["dataflow", "q_bits"] + [f"gs {g}" for g in gss]
    lines += ["Energy reduction vs INT32 (whole model):", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for dataflow in ("ws", "is"):
        for q in cfg["q_bits"]:
            red = en["total"][dataflow][str(q)]
            lines.append("| " + " | ".join([dataflow.upper(), str(q)]
                                          + [f"{red[str(g)]:.1%}" for g in gss]) + " |")
    lines += ["", f"Group sizes above max_group_size ({p['max_group_size']}) do not run on this "
              "engine; their capacity is that of a hypothetical engine with the same SRAM "
              "(depth x max_group_size / gs).", "",
              f"PSUM bits moved per token, all layers (q_bits {q0}): INT32 "
              f"{en['bits_per_token']['int32']:,}; APSQ "
              + ", ".join(f"gs {g} {en['bits_per_token']['apsq'][str(g)]:,}" for g in gss), ""]

    lines += [f"## Recommendation per layer (q_bits {q0}, budget {cfg['budget_db']:g} dB, "
              f"engine max_group_size {p['max_group_size']})", "",
              "Smallest group size within the budget (the one that leaves the largest "
              "buffer capacity), the addresses the buffer then holds, and whether a layer's "
              "alive addresses fit.", ""]
    head = ["layer", "gs", "loss dB", "capacity", "fits WS", "fits IS", "best gs (loss dB)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rec in result["recommendations"]:
        if rec["gs"] is None:
            cells = [_short(rec["name"]), "none", "-", "-", "-", "-"]
        else:
            cells = [_short(rec["name"]), str(rec["gs"]), f"{rec['loss_db']:.2f}",
                     str(rec["capacity"]), "yes" if rec["fits"]["ws"] else "no",
                     "yes" if rec["fits"]["is"] else "no"]
        cells.append(f"{rec['best_gs']} ({rec['best_loss_db']:.2f})")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Plots: `error_vs_gs.png` (output SQNR against group size per layer), "
              "`e2e_vs_gs.png` (end-to-end cosine), `energy_reduction.png`.", ""]
    Path(path).write_text("\n".join(lines))


def write_plots(out_dir, result):
    """``error_vs_gs.png``, ``e2e_vs_gs.png`` and ``energy_reduction.png`` (matplotlib, Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    cfg = result["config"]
    q0 = cfg["q_bits"][0]
    gss = cfg["group_sizes"]
    kinds = []
    for row in result["layers"]:
        kind = _short(row["name"]).split(".", 1)[-1]
        if kind not in kinds:
            kinds.append(kind)
    cols = min(3, len(kinds))
    rows_n = -(-len(kinds) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.2 * rows_n), squeeze=False)
    for ax, kind in zip(axes.ravel(), kinds):
        for row in result["layers"]:
            if _short(row["name"]).split(".", 1)[-1] != kind:
                continue
            ys = [row["schemes"][f"APSQ q{q0} gs{g}"]["sqnr_db"] for g in gss]
            line, = ax.plot(gss, [float("nan") if y is None else y for y in ys], marker="o",
                            label=_short(row["name"]).split(".", 1)[0])
            base = row["schemes"][f"OUT q{q0}"]["sqnr_db"]
            if base is not None:
                ax.axhline(base, color=line.get_color(), linestyle=":", linewidth=0.8)
        ax.set_title(f"{kind} (dotted: OUT q{q0})")
        ax.set_xlabel("group size")
        ax.set_ylabel("output SQNR (dB)")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(kinds):]:
        ax.axis("off")
    fig.suptitle(f"APSQ q{q0}: layer output SQNR vs group size ({result['model']})")
    fig.tight_layout()
    fig.savefig(out_dir / "error_vs_gs.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    e2e = result["end_to_end"]
    for q in cfg["q_bits"]:
        line, = ax.plot(gss, [e2e[f"APSQ q{q} gs{g}"]["cos_mean"] for g in gss], marker="o",
                        label=f"APSQ q{q}")
        ax.axhline(e2e[f"PSQ q{q}"]["cos_mean"], color=line.get_color(), linestyle="--",
                   linewidth=0.8, label=f"PSQ q{q}")
    ax.axhline(e2e["INT32"]["cos_mean"], color="k", linestyle=":", label="INT32")
    ax.set_xlabel("group size")
    ax.set_ylabel("mean cosine to float embeddings")
    ax.set_title(f"End to end ({result['model']})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "e2e_vs_gs.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    en = result["energy"]["total"]
    width = 0.8 / 2
    for k, dataflow in enumerate(("ws", "is")):
        red = en[dataflow][str(q0)]
        ax.bar([g + (k - 0.5) * width for g in gss], [100 * red[str(g)] for g in gss],
               width=width, label=dataflow.upper())
    ax.set_xlabel("group size")
    ax.set_ylabel("PSUM energy reduction vs INT32 (%)")
    ax.set_title(f"PSUM access energy, APSQ q{q0} vs INT32")
    ax.set_xticks(gss)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "energy_reduction.png", dpi=110)
    plt.close(fig)
