"""The sentences the report's sections write, in English and Chinese.

Each entry is ``(pattern, English, Chinese)``: the pattern matches the whole sentence a
section (or a metric's audit note) writes; the templates put back what the pattern's
named groups captured — numbers, weeks and names as they are, a ``term…`` group as a
method or definition name (``wilson`` → "Wilson 区间"), a ``metric…`` group as a column
label, a ``list…`` group as a list of column labels, a ``part…`` group as a sentence of
its own (translated in turn). The English template rewrites sentences that carried a
code (``"vs_peers is the platform's ..."``).

Used by :func:`shopmetrics.report.labels.translate`; a sentence without an entry is shown
as written, and the render test (``tests/test_labels.py``) finds it in a zh report.
"""

from __future__ import annotations

import re

__all__ = ["PHRASES"]

_W = r"(?P<week>\d{4}-W\d{2})"
_N = r"[-+]?[\d,]+(?:\.\d+)?%?"

_RAW: tuple[tuple[str, str, str], ...] = (
    # words of the detectors' replacement figures
    (
        r"a back-end export at this grain, or events=",
        "a back-end export at this grain, or raw events",
        "按此粒度的后台导出文件，或原始事件数据",
    ),
    (r"several days per period", "several days per period", "每个周期含多天"),
    # titles, captions, chart titles
    (rf"Weekly report {_W}", "Weekly report {week}", "周报 {week}"),
    (
        r"Activities in or just before this week",
        "Activities in or just before this week",
        "本周及上周的活动",
    ),
    (r"The buyers each activity brought", "The buyers each activity brought", "各活动带来的买家"),
    (
        (
            r"What each activity added beyond what its products would have sold without it "
            r"\(a counterfactual from their own history\), the dip after it, its cost, and "
            r"whether it paid\."
        ),
        (
            "What each activity added beyond what its products would have sold without it (a "
            "counterfactual from their own history), the dip after it, its cost, and whether "
            "it paid."
        ),
        "各活动带来的增量（相对于其商品在无活动时按自身历史预测的销售）、活动后的透支、活动成本，以及是否划算。",
    ),
    (r"Weekly report", "Weekly report", "周报"),
    (r"This week and last", "This week and last", "本周与上周"),
    (r"Week over week: rates", "Week over week: rates", "周环比：比率"),
    (
        r"Week over week: counts and values",
        "Week over week: counts and values",
        "周环比：数量与金额",
    ),
    (r"Against peers \(同行同层平均\)", "Against peers (同行同层平均)", "与同行同层平均对比"),
    (r"Days outside the expected band", "Days outside the expected range", "超出预期区间的日期"),
    (r"Daily visitors", "Daily visitors", "每日访客数"),
    (
        rf"Funnel {_W}: unique visitors at each step",
        "Funnel {week}: unique visitors at each step",
        "{week} 转化漏斗：各环节去重访客数",
    ),
    (r"Sources this week", "Sources this week", "本周流量来源"),
    (r"Free vs paid", "Free vs paid", "免费与付费流量"),
    (
        r"(?P<part>.+) \(visitors counted once per source\)",
        "{part} (visitors counted once per source)",
        "{part} (各来源内访客去重)",
    ),
    (r"What to do about each flag", "What to do about each flag", "每个标记的处理建议"),
    (r"This week and last: rates", "This week and last: rates", "本周与上周：比率"),
    (
        r"This week and last: counts and values",
        "This week and last: counts and values",
        "本周与上周：数量与金额",
    ),
    (
        r"Top products this week, by paid amount",
        "Top products this week, by paid amount",
        "本周商品排行 (按支付金额)",
    ),
    (
        r"ROAS by paid source \(sales / cost\)",
        "ROAS by paid source (sales / cost)",
        "付费来源的投入产出比 (ROAS，销售额 / 花费)",
    ),
    (r"Significant movers", "Significant movers", "显著变化的商品"),
    (
        r"Movers: payment conversion change",
        "Movers: change in payment conversion",
        "显著变化：支付转化率变化",
    ),
    (
        r"Presale products: use these figures",
        "Presale products: use these figures",
        "预售商品：请使用这些数字",
    ),
    (r"DSR by week", "DSR by week", "每周动态评分 (DSR)"),
    (r"DSR over time", "DSR against peers over time", "动态评分 (DSR) 与同行对比走势"),
    (r"New low ratings this week", "New low ratings this week", "本周新增低分评价"),
    (r"Visitor value decomposition", "Visitor value decomposition", "UV价值分解"),
    (
        r"Payment conversion: traffic mix vs each source's own rate",
        "Payment conversion: traffic mix vs each source's own rate",
        "支付转化率：流量结构与各来源自身转化率",
    ),
    (r"Files read", "Files read", "读取的文件"),
    (r"Rows excluded", "Rows excluded", "排除的行"),
    (r"peer average \((?P<dim>\w+)\)", "peer average ({dim})", "同行同层平均 ({dim})"),
    # section intros
    (
        (
            r"Daily visitors against the band expected from the trend and the "
            r"weekly pattern \(STL, robust\); days outside the band are worth a "
            r"look, a quiet weekend is not\."
        ),
        (
            "Daily visitors against the range expected from the trend and the "
            "weekly pattern (robust STL); days outside the range are worth a look, "
            "a quiet weekend is not."
        ),
        "每日访客数与按趋势和周内规律 (稳健 STL 分解) 得出的预期区间对比；超出区间的日期值得查看，周末偏低属于正常。",
    ),
    (
        (
            rf"Week {_W} against the week before; rates with (?P<conf>\d+)% "
            rf"intervals \((?P<term1>[\w-]+)\); (?P<term2>\w+) definition; changes "
            rf"tested with (?P<term3>\w+) correction across metrics\."
        ),
        (
            "Week {week} against the week before; rates with {conf}% intervals "
            "({term1}); {term2}; changes tested with {term3} across metrics."
        ),
        "{week} 与上周对比；比率附 {conf}% 区间 ({term1})；{term2}；各指标的变化经 {term3} 检验。",
    ),
    (
        (
            r"(?P<part>.+); shares are of the store's visitors, each visitor counted once: "
            r"they add to more than 100% \(a visitor can come through several sources\)\."
        ),
        (
            "{part}; shares are of the store's visitors, each visitor counted once: they add "
            "to more than 100% (a visitor can come through several sources)."
        ),
        "{part}；占比按全店去重访客数计算，每位访客只计一次：各来源占比之和超过 100% (一位访客可能经多个来源进店)。",
    ),
    (
        r"Orders credited to the source the order records",
        "Orders credited to the source the order records",
        "订单按订单记录的来源归属",
    ),
    (
        r"Orders credited to the last click before them",
        "Orders credited to the last click before them",
        "订单按下单前的末次点击归属",
    ),
    (
        r"Sales as the traffic-source export credits them \(the back-end's attribution\)",
        "Sales as the traffic-source export credits them (the back-end's attribution)",
        "销售额按流量来源导出文件的归属 (后台归因)",
    ),
    (
        (
            r"Products whose payment conversion moved significantly "
            r"\(Benjamini-Hochberg across all products\), ranked by their effect on "
            r"the store's conversion\."
        ),
        (
            "Products whose payment conversion moved significantly "
            "(Benjamini-Hochberg across all products), ranked by their effect on "
            "the store's conversion."
        ),
        "支付转化率显著变化的商品 (对全部商品做 Benjamini-Hochberg 校正)，按对全店转化率的影响排序。",
    ),
    (
        (
            r"Scores over the (?P<days>\d+) days to (?P<day>[\d-]+); vs_peers is "
            r"the platform's normalised comparison, rel_diff the plain one\."
        ),
        (
            "Scores over the {days} days to {day}; “against peers (normalised)” is "
            "the platform's comparison, “against peers (relative)” the plain one."
        ),
        "截至 {day} 的 {days} 天评分；“与同行比 (标准化)”为平台口径，“与同行相对差异”为直接比较。",
    ),
    (
        (
            r"Visitor value = payment conversion × AOV\. Per source Δlog\(visitor value\) = "
            r"Δlog\(conversion\) \+ Δlog\(AOV\); the \(store\) rows are the headline's "
            r"figures, split into traffic mix \(where visitors came from\) and each source's "
            r"own figures\. Shares are of the store's visitors counted once, as in the "
            r"traffic table\."
        ),
        (
            "Visitor value = payment conversion × AOV. Per source Δlog(visitor value) = "
            "Δlog(conversion) + Δlog(AOV); the (store) rows are the headline's figures, split "
            "into traffic mix (where visitors came from) and each source's own figures. "
            "Shares are of the store's visitors counted once, as in the traffic table."
        ),
        (
            "UV价值 = 支付转化率 × 客单价。按来源：UV价值对数变化 = 支付转化率对数变化 + "
            "客单价对数变化；(全店) 行即核心指标的数字，拆分为流量结构效应 (访客从哪些来源进店) "
            "和各来源自身效应。占比按全店去重访客数计算，与流量来源表一致。"
        ),
    ),
    (
        (
            r"The store exports read, the columns each one gave, and the rows left "
            r"out \(summary and subtotal rows, lines without an order, \.\.\.\)\."
        ),
        (
            "The store exports read, the columns each one gave, and the rows left "
            "out (summary and subtotal rows, lines without an order, ...)."
        ),
        "读取的店铺导出文件、各文件提供的字段，以及排除的行 (汇总行、小计行、无订单的明细行等)。",
    ),
    # notes
    (
        (
            rf"Week {_W} is partial: the data cover (?P<a>[\d-]+) to (?P<b>[\d-]+) only, so "
            r"its counts are not comparable with a full week\."
        ),
        (
            "Week {week} is partial: the data cover {a} to {b} only, so its counts are not "
            "comparable with a full week."
        ),
        "{week} 为不完整周：数据仅覆盖 {a} 至 {b}，与完整周的数据不可直接比较。",
    ),
    (
        r"timestamps taken as store-local wall time \(naive\)",
        "timestamps taken as store-local wall time",
        "时间按店铺当地时间读取",
    ),
    (
        (
            r"definition: (?P<term>\w+) \(生意参谋: unique buyers / unique visitors, "
            r"pooled over each period\)"
        ),
        "definition: {term} (unique buyers / unique visitors, pooled over each period)",
        "口径：{term} (去重买家数 / 去重访客数，按周期汇总)",
    ),
    (
        (
            r"(?P<n>\d+) partial ratings count in the dimensions they rate only "
            r"\(no default score for the others\)"
        ),
        (
            "{n} partial ratings count in the dimensions they rate only (no "
            "default score for the others)"
        ),
        "{n} 条部分评价只计入其评分的维度 (其他维度不补默认分)",
    ),
    (
        (
            r"(?P<n>\d+) ratings have no matching order_id in orders: kept \(the "
            r"orders table may not reach back far enough\)"
        ),
        (
            "{n} ratings have no matching order in the orders table: kept (the "
            "orders may not reach back far enough)"
        ),
        "{n} 条评价在订单表中找不到对应订单：已保留 (订单数据可能不够早)",
    ),
    (
        (
            r"window: ratings given from (?P<a>[\d-]+ [\d:]+) to (?P<b>[\d-]+ "
            r"[\d:]+) \((?P<days>\d+) days, both ends inclusive\), by rated_at"
        ),
        "window: ratings given from {a} to {b} ({days} days, both ends inclusive), by rating time",
        "窗口：{a} 至 {b} 给出的评价 ({days} 天，含首尾)，按评价时间",
    ),
    (
        (
            r"(?P<n>\d+) ratings belong to buyer-months with more than (?P<cap>\d+) "
            r"ratings; the cap was applied to them row by row"
        ),
        (
            "{n} ratings belong to buyer-months with more than {cap} ratings; the "
            "cap was applied to them row by row"
        ),
        "{n} 条评价所属的买家月评价数超过 {cap} 条；已逐条应用上限",
    ),
    (
        (
            r"visitor_share: shares of de-duplicated visitors; a visitor reached "
            r"through two sources counts in both, so shares add to more than 100%"
        ),
        (
            "share of visitors: shares of de-duplicated visitors; a visitor "
            "reached through two sources counts in both, so shares add to more "
            "than 100%"
        ),
        "访客占比：按去重访客计算；经两个来源进店的访客在两处都计入，因此占比之和超过 100%",
    ),
    (
        (
            rf"From (?P<w1>\d{{4}}-W\d{{2}}) to (?P<w2>\d{{4}}-W\d{{2}}) paid "
            rf"visitors changed (?P<p>{_N}) and free visitors (?P<f>{_N}): paid "
            rf"traffic grew while free traffic fell, which is what paid traffic "
            rf"taking over free traffic looks like \(two weeks of counts, not a "
            rf"causal finding\)\."
        ),
        (
            "From {w1} to {w2} paid visitors changed {p} and free visitors {f}: "
            "paid traffic grew while free traffic fell, which is what paid traffic "
            "taking over free traffic looks like (two weeks of counts, not a "
            "causal finding)."
        ),
        (
            "{w1} 至 {w2}，付费访客变化 {p}，免费访客变化 {f}：付费流量增长而免费流量下降，"
            "这正是付费流量挤占免费流量的样子 (仅两周数据，并非因果结论)。"
        ),
    ),
    (
        (
            rf"From (?P<w1>\d{{4}}-W\d{{2}}) to (?P<w2>\d{{4}}-W\d{{2}}) paid "
            rf"visitors changed (?P<p>{_N}) and free visitors (?P<f>{_N})\."
        ),
        "From {w1} to {w2} paid visitors changed {p} and free visitors {f}.",
        "{w1} 至 {w2}，付费访客变化 {p}，免费访客变化 {f}。",
    ),
    (
        (
            r"from a traffic export: the counts are the export's; sessions, bot "
            r"detection and tracking-gap checks need raw events \(events=\); not in "
            r"the export: (?P<list>[\w, ]+) \(the rates built on them are left out\)"
        ),
        (
            "from a traffic export: the counts are the export's; sessions, bot "
            "detection and tracking-gap checks need raw events; not in the export: "
            "{list} (the rates built on them are left out)"
        ),
        (
            "来自流量导出文件：数量为导出文件所给；访问次数、"
            "机器流量识别和埋点缺失检查需要原始事件数据；导出文件中没有：{list} "
            "(基于它们的比率未计算)"
        ),
    ),
    (
        (
            r"ratings have no trade_success_at column: the monthly cap orders each "
            r"buyer's ratings by rating time \(rated_at\) and uses its natural "
            r"month instead"
        ),
        (
            "ratings have no trade-success time: the monthly cap orders each "
            "buyer's ratings by rating time and uses its natural month instead"
        ),
        "评价数据没有交易成功时间：每月上限按评价时间排序每位买家的评价，并改用自然月",
    ),
    (
        (
            r"sales per source are the traffic export's own \(支付买家数, 支付金额: the "
            r"back-end's attribution\); ROAS = 支付金额 / 花费 has no interval without "
            r"order-level amounts, and other attribution models need raw events"
        ),
        (
            "sales per source are the traffic export's own (paying buyers, paid "
            "amount: the back-end's attribution); ROAS = paid amount / cost has no "
            "interval without order-level amounts, and other attribution models "
            "need raw events"
        ),
        (
            "各来源的销售额取自流量导出文件 (支付买家数、支付金额：后台归因)；"
            "没有订单级金额时 ROAS = 支付金额 / 花费 无区间，其他归因模型需要原始事件数据"
        ),
    ),
    (
        r"traffic columns (?P<list>\[[^\]]*\]) replaced by the same counts from orders",
        "traffic columns {list} replaced by the same counts from orders",
        "流量数据中的 {list} 已由订单数据中的同口径数字替换",
    ),
    (
        r"Built from store exports, without raw events; not computed: .*",
        (
            "Built from store exports, without raw events; not computed: "
            "exposures, clicks and CTR by source (the traffic exports carry none; "
            "the paid plans' own are in their spend reports); sessions and session "
            "conversion; bot and crawler detection, tracking-gap checks; visitors "
            "de-duplicated across products, sources or days (an export's unique "
            "counts are summed over its rows: see the flags); attribution models "
            "other than the back-end's own (first / last click, Markov)."
        ),
        (
            "由店铺导出文件生成，没有原始事件数据；未计算：各来源的曝光量、点击量和 CTR "
            "(流量导出文件不含这些，付费计划的数字见其推广报表)；"
            "访问次数与访问转化率；机器流量识别和埋点缺失检查；跨商品、"
            "来源或日期去重的访客数 (导出文件的去重人数按行相加：见数据提示)；"
            "后台以外的归因模型 (首次 / 末次点击、马尔可夫链)。"
        ),
    ),
    (
        (
            r"Not in the files given: the daily trend: it needs 14 days of daily "
            r"rows, the data have (?P<n>\d+)\."
        ),
        (
            "Not in the files given: the daily trend: it needs 14 days of daily "
            "rows, the data have {n}."
        ),
        "所给文件中缺少：每日趋势需要 14 天的每日数据，当前只有 {n} 天。",
    ),
    (
        (
            r"Sales / cost of paid sources \(the back-end's \"ROI\"\)|sales / cost "
            r"of paid sources \(the back-end's \"ROI\"\)"
        ),
        "sales / cost of paid sources (the back-end's “ROI”)",
        "付费来源的销售额 / 花费 (即后台的“投入产出比”)",
    ),
    # the engine's notes when two inputs were held by different engines (engine.tables)
    (
        (
            r"[\w:]+: (?P<table_b>\w+) \((?P<n>\d+) rows\) was copied from "
            r"(?P<engine_src>\w+) into (?P<engine_dst>\w+), where (?P<table_a>\w+) is, to be "
            r"joined there"
        ),
        (
            "{table_b} ({n} rows) copied from {engine_src} into {engine_dst}, the engine "
            "holding “{table_a}”, to be joined there"
        ),
        "{table_b} ({n} 行) 已从 {engine_src} 复制到{table_a}所在的 {engine_dst}，以便关联计算",
    ),
    (
        (
            r"[\w:]+: (?P<table_a>\w+) and (?P<table_b>\w+) were on different DuckDB "
            r"connections; both were copied into one local engine to be joined \(pass "
            r"relations of one connection\)"
        ),
        (
            "“{table_a}” and “{table_b}” were on different DuckDB connections; both were "
            "copied into one local engine to be joined (pass relations of one connection)"
        ),
        (
            "{table_a}与{table_b}位于不同的 DuckDB 连接上，已一并复制到同一本地引擎中关联计算 "
            "(请传入同一连接上的关系)"
        ),
    ),
)

PHRASES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(p), en, zh) for p, en, zh in _RAW
)
"""``(compiled pattern, English template, Chinese template)`` of every sentence."""
