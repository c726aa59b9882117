"""The ten-second story: three to five sentences from the week's numbers, and one action per flag.

The sentences say what moved (visitors, payment conversion, sales), whether the change is
significant, and why: the traffic mix or the sources' own rates (from the mix
decomposition on the headline's base), the source that moved most, a paid source below
break-even, a flag touching the week with the corrected figure. Each is generated in
English and Chinese (生意参谋 terms) from the same numbers.

A source "got worse" when its own payment conversion fell significantly (two-proportion
score test per source, Benjamini-Hochberg across sources at the report's level).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from shopmetrics.report.labels import label, source_label
from shopmetrics.stats import multiplicity, twosample

if TYPE_CHECKING:
    import pandas as pd

    from shopmetrics.flags.finding import Flag
    from shopmetrics.report.corrected import Correction
    from shopmetrics.report.model import Headline

__all__ = ["Story", "flag_actions", "source_verdicts", "tell"]

Bilingual = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Story:
    """What the week's numbers say, in both languages.

    Attributes:
        sentences: ``{"en": [...], "zh": [...]}``, three to five sentences each.
        why: ``"mix"`` (conversion moved with the traffic mix, no source worse),
            ``"source"`` (a source's own rate fell significantly), or ``""``.
        worse: The sources whose own conversion fell significantly.
    """

    sentences: Mapping[str, tuple[str, ...]]
    why: str = ""
    worse: tuple[str, ...] = ()


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def _sig(h: Headline) -> Bilingual:
    if h.significant is None:
        return "", ""
    return (
        ("significant" if h.significant else "not significant"),
        ("显著" if h.significant else "不显著"),
    )


def source_verdicts(
    mix: pd.DataFrame | None, per: pd.DataFrame | None, prev: str, cur: str, alpha: float
) -> tuple[str, ...]:
    """The sources whose own payment conversion fell significantly (BH across sources)."""
    if per is None or mix is None or "attributed_buyers" not in per.columns:
        return ()
    a = per[per["period"] == prev].set_index("source")
    b = per[per["period"] == cur].set_index("source")
    va, vb = a["visitors"].astype(float), b["visitors"].astype(float)
    both = sorted(set(va[va > 0].index) & set(vb[vb > 0].index))
    if not both:
        return ()
    x1, n1 = (
        b.loc[both, "attributed_buyers"].to_numpy(float),
        b.loc[both, "visitors"].to_numpy(float),
    )
    x0, n0 = (
        a.loc[both, "attributed_buyers"].to_numpy(float),
        a.loc[both, "visitors"].to_numpy(float),
    )
    c = twosample.compare_proportions(x1, n1, x0, n0)
    adj = multiplicity.adjust_pvalues(np.asarray(c.p_value, float), method="bh")
    return tuple(s for s, d, p in zip(both, c.estimate, adj, strict=True) if d < 0 and p < alpha)


def _visitors(h: Headline, per: pd.DataFrame | None, prev: str, cur: str) -> Bilingual:
    en = f"Visitors {_pct(h.rel_change or 0)} ({h.previous:,.0f} → {h.value:,.0f})"
    zh = f"访客数 {_pct(h.rel_change or 0)}（{h.previous:,.0f} → {h.value:,.0f}）"
    s_en, s_zh = _sig(h)
    if per is not None and len(per):
        a = per[per["period"] == prev].set_index("source")["visitors"]
        b = per[per["period"] == cur].set_index("source")["visitors"]
        d = b.sub(a, fill_value=0).sort_values(key=np.abs, ascending=False, kind="stable")
        if len(d) and h.change and np.sign(d.iloc[0]) == np.sign(h.change):
            src = str(d.index[0])
            en += f", {s_en}, mostly from {label(src)} ({d.iloc[0]:+,.0f} visitors)."
            zh += f"，{s_zh}，主要来自{source_label(src, 'zh')}（{d.iloc[0]:+,.0f} 访客）。"
            return en, zh
    return f"{en}, {s_en}.", f"{zh}，{s_zh}。"


def _conversion(
    h: Headline, store: Mapping[str, float] | None, worse: Sequence[str]
) -> tuple[Bilingual, str]:
    pp = (h.change or 0) * 100
    verb_en = "rose" if pp > 0 else "fell"
    verb_zh = "上升" if pp > 0 else "下降"
    s_en, s_zh = _sig(h)
    en = f"Payment conversion {verb_en} from {h.previous:.2%} to {h.value:.2%} ({pp:+.2f} pp, {s_en})"
    zh = f"支付转化率从 {h.previous:.2%} {verb_zh}到 {h.value:.2%}（{pp:+.2f} 个百分点，{s_zh}）"
    if worse:
        names = ", ".join(label(w) for w in worse)
        link, link_zh = (": ", "：") if pp <= 0 else (", although ", "，但")
        return (
            f"{en}{link}{names} converted significantly worse on its own traffic.",
            f"{zh}{link_zh}{'、'.join(source_label(w, 'zh') for w in worse)} 自身转化率显著下降。",
        ), "source"
    if store is not None:
        mix, own = store["mix_effect"] * 100, store["rate_effect"] * 100
        if abs(mix) > abs(own) and np.sign(mix) == np.sign(pp):
            return (
                (
                    f"{en}: traffic mix accounts for {mix:+.2f} pp and the sources' own rates for "
                    f"{own:+.2f} pp, so it {verb_en} from where visitors came from, not because any "
                    "source got worse."
                ),
                (
                    f"{zh}：流量结构贡献 {mix:+.2f} 个百分点，各来源自身转化率贡献 {own:+.2f} 个百分点，"
                    "变化来自流量结构，而非某个来源变差。"
                ),
            ), "mix"
    return (f"{en}.", f"{zh}。"), ""


def _paid(per: pd.DataFrame | None, cur: str) -> Bilingual | None:
    if per is None or "cost" not in per.columns:
        return None
    this = per[(per["period"] == cur) & (per["cost"] > 0)]
    col = "roi" if "roi" in this.columns and this["roi"].notna().any() else "roas"
    if col not in this.columns:
        return None
    limit = 0.0 if col == "roi" else 1.0
    below = this[this[col] < limit].sort_values("source")
    if not len(below):
        return None
    parts_en = [f"{label(str(r.source))} ROAS {r.roas:.2f}" for r in below.itertuples()]
    parts_zh = [
        f"{source_label(str(r.source), 'zh')} 投入产出比 {r.roas:.2f}" for r in below.itertuples()
    ]
    return (
        "Below break-even (sales do not cover cost and margin): " + "; ".join(parts_en) + ".",
        "低于盈亏平衡（成交不足以覆盖花费与成本）：" + "；".join(parts_zh) + "。",
    )


def _correction(corrections: Sequence[Correction], h: Headline, week: str) -> Bilingual | None:
    for c in corrections:
        value = c.rows.get(week, {}).get("payment_conversion")
        before = [r.get("payment_conversion") for p, r in sorted(c.rows.items()) if p != week]
        if (
            value is None
            or np.isnan(value)
            or (abs(value - (h.value or 0)) < 1e-12 and c.p_value is None)
        ):
            continue
        sig_en = (
            ""
            if c.significant is None
            else (", significant" if c.significant else ", not significant")
        )
        sig_zh = "" if c.significant is None else ("，显著" if c.significant else "，不显著")
        p = "" if c.p_value is None else f" (p = {c.p_value:.2f}{sig_en})"
        pz = "" if c.p_value is None else f"（p = {c.p_value:.2f}{sig_zh}）"
        frm = f"from {before[0]:.2%} to " if before and before[0] is not None else ""
        frm_zh = f"从 {before[0]:.2%} 变为 " if before and before[0] is not None else "为 "
        name_en = _EN_CODES.get(c.code, c.code)
        return (
            (
                f"A flag ({name_en}) touches these weeks: without the rows it names, payment "
                f"conversion goes {frm}{value:.2%}{p}."
            ),
            (
                f"本周受异常标记影响（{_ZH_CODES.get(c.code, c.code)}）：剔除相关数据后支付转化率"
                f"{frm_zh}{value:.2%}{pz}。"
            ),
        )
    return None


_EN_CODES = {
    "order_brushing": "suspected order brushing",
    "tracking_gap": "a day with no tracking",
    "bot_traffic": "bot traffic",
    "presale_zero_payment": "presale deposits not yet paid in full",
}

_ZH_CODES = {
    "order_brushing": "疑似刷单",
    "tracking_gap": "埋点缺失",
    "bot_traffic": "机器流量",
    "presale_zero_payment": "预售未付尾款",
    "mix_shift": "流量结构变化",
    "rating_brushing": "疑似刷评",
    "anomaly": "异常波动",
    "missing_day": "缺失日期",
}


def tell(
    headline: Sequence[Headline],
    *,
    week: str,
    previous: str | None,
    per_source: pd.DataFrame | None = None,
    mix: pd.DataFrame | None = None,
    corrections: Sequence[Correction] = (),
    partial: Bilingual | None = None,
    alpha: float = 0.05,
) -> Story:
    """Three to five sentences, in English and Chinese, from the week's figures."""
    heads: dict[str, Headline] = {}
    for h in headline:
        heads.setdefault(h.name, h)  # the raw figure (a corrected one follows it)
    en: list[str] = []
    zh: list[str] = []

    def add(pair: Bilingual | None) -> None:
        if pair is not None:
            en.append(pair[0])
            zh.append(pair[1])

    if partial is not None:
        add(partial)
    why, worse = "", tuple[str, ...]()
    if previous is None:
        add((f"Week {week} has no week before it in the data: no changes to report.",
             f"数据中没有 {week} 的上一周：无环比变化。"))  # fmt: skip
    else:
        if "visitors" in heads and heads["visitors"].previous:
            add(_visitors(heads["visitors"], per_source, previous, week))
        store = None
        if mix is not None:
            row = mix[mix["source"] == "(store)"]
            store = (
                {k: float(row.iloc[0][k]) for k in ("mix_effect", "rate_effect")}
                if len(row)
                else None
            )
        worse = source_verdicts(mix, per_source, previous, week, alpha)
        if "payment_conversion" in heads and heads["payment_conversion"].previous is not None:
            pair, why = _conversion(heads["payment_conversion"], store, worse)
            add(pair)
            add(_correction(corrections, heads["payment_conversion"], week))
    add(_paid(per_source, week))
    if "paid_amount" in heads and len(en) < 3:
        h = heads["paid_amount"]
        rel = "" if h.rel_change is None else _pct(h.rel_change)
        add((f"Paid amount ¥{h.value:,.2f}" + (f" ({rel})." if rel else "."),
             f"支付金额 ¥{h.value:,.2f}" + (f"（{rel}）。" if rel else "。")))  # fmt: skip
    return Story({"en": tuple(en[:5]), "zh": tuple(zh[:5])}, why, tuple(worse))


_ACTIONS: dict[str, Bilingual] = {
    "order_brushing": (
        "Report {product} without the {n} suspected brushed orders: {figure}.",
        "剔除 {product} 的 {n} 笔疑似刷单后再看：{figure}。",
    ),
    "presale_zero_payment": (
        "Judge presale product {product} by its order conversion {figure}, not payment conversion.",
        "预售商品 {product} 请看下单转化率 {figure}，而不是支付转化率。",
    ),
    "tracking_gap": (
        "Leave {date} out of comparisons and check the tracking code for that day: {figure}.",
        "对比时剔除 {date}，并检查当天的埋点：{figure}。",
    ),
    "bot_traffic": (
        "Read {date} without the {n} bot visitors: {figure}.",
        "剔除 {date} 的 {n} 个机器访客后再看：{figure}。",
    ),
    "mix_shift": (
        (
            "Judge each source by its own conversion; at last week's traffic mix payment "
            "conversion would be {figure}."
        ),
        "按各来源自身转化率评估；按上周流量结构，支付转化率应为 {figure}。",
    ),
    "rating_brushing": (
        "Read DSR without the suspected ratings: {figure}.",
        "剔除疑似刷评后看动态评分：{figure}。",
    ),
    "anomaly": (
        "Check {date} before reading it as demand.",
        "先核查 {date}，再判断是否为真实需求。",
    ),
    "missing_day": (
        "Check the tracking or the export for {date} before reading the week.",
        "先核查 {date} 的埋点或导出数据，再解读本周数据。",
    ),
}


def _figure(flag: Flag, correction: Correction | None, lang: str) -> str:
    if correction is not None and flag.code != "presale_zero_payment":
        conv = "payment conversion" if lang == "en" else "支付转化率"
        amount = "paid amount" if lang == "en" else "支付金额"
        comma, semi = (", ", "; ") if lang == "en" else ("，", "；")
        return semi.join(
            f"{week} {conv} {row['payment_conversion']:.2%}{comma}{amount} "
            f"¥{row['paid_amount']:,.2f}"
            for week, row in sorted(correction.rows.items())
        )
    inst = dict(flag.instead)
    if flag.code == "presale_zero_payment" and "order_conversion" in inst:
        inst = {"order_conversion": inst["order_conversion"]}
    parts = []
    for k, v in inst.items():
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating):
            continue
        fv = float(v)
        parts.append(f"{fv:.2%}" if ("conversion" in k or k in ("ctr",)) else f"{fv:,.2f}")
    return (", " if lang == "en" else "，").join(parts)


def flag_actions(
    flags: Sequence[Flag], corrections: Sequence[tuple[Flag, Correction]], lang: str
) -> list[dict[str, str]]:
    """One plain action per flag: ``{"code", "severity", "subject", "action"}`` rows
    (``action`` in ``lang``; ``action_en`` and ``action_zh`` both)."""
    out = []
    for f in flags:
        fixed = next((c for g, c in corrections if g == f), None)
        both = {k: _action(f, fixed, k) for k in ("en", "zh")}
        where = ", ".join(f"{v}" for v in f.subject.values() if not isinstance(v, list | dict))
        out.append(
            {
                "code": f.code,
                "severity": f.severity,
                "subject": where,
                "action": both[lang],
                "action_en": both["en"],
                "action_zh": both["zh"],
            }
        )
    return out


def _action(f: Flag, correction: Correction | None, lang: str) -> str:
    template = _ACTIONS.get(f.code)
    if template is None:  # a flag without an action of its own: its message's first sentence
        if lang == "en":
            return f.message.split(". ")[0].rstrip(".") + "."
        return f"请先核查此项（{_ZH_CODES.get(f.code, label(f.code, 'zh'))}），再解读本周数据。"
    subject = dict(f.subject)
    text = template[0 if lang == "en" else 1]
    return (
        text.format(
            product=subject.get("product_id", ""),
            date=subject.get("date", ""),
            n=f.n_rows if f.n_rows is not None else f.evidence.get("bot_visitors", ""),
            figure=_figure(f, correction, lang),
        )
        .replace(": .", ".")
        .replace("：。", "。")
    )
