"""Every flag code's words: a title and one plain action, in English and Chinese.

The codes are those :mod:`shopmetrics.flags`, :mod:`shopmetrics.validation` and the
metric modules can emit (a test walks the source for them and asserts each one is here).
The report shows the title instead of the code, and the action as "what to do".

Examples:
    >>> FLAGS["presale_zero_payment"][1][0]
    '预售商品：支付转化率为 0'
"""

from __future__ import annotations

__all__ = ["FLAGS"]

# code -> ((English title, English action), (Chinese title, Chinese action))
FLAGS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "activity_short_history": (
        (
            "Too little history before the activity",
            "Load more weeks before it; under three weeks no effect is given.",
        ),
        ("活动前历史数据不足", "补充活动前更多周的数据；不足三周时不给出效果。"),
    ),
    "activity_poor_fit": (
        (
            "The counterfactual misses the week before",
            "Check the comparison-products estimate before trusting the effect.",
        ),
        ("反事实预测与活动前一周不符", "先对照未参加活动商品的估计，再采信活动效果。"),
    ),
    "activity_overlap": (
        ("Activities overlap", "Read their effects together; each includes the other's."),
        ("活动时间与商品重叠", "合并解读这些活动的效果，单个效果包含了另一个活动的影响。"),
    ),
    "activity_presale_payment_date": (
        (
            "Presale paid after the activity",
            "Read the activity and its final-payment days together (read more days after it).",
        ),
        ("预售尾款在活动后支付", "把活动期和尾款支付日合并解读（增大活动后天数）。"),
    ),
    "activity_methods_disagree": (
        ("Two estimates of the lift disagree", "Look for a halo on other products or a trend the history misses."),
        ("两种增量估计不一致", "检查是否有关联销售或历史数据未反映的趋势。"),
    ),
    "activity_unfinished": (
        ("The activity is still running", "Read the effect again after it ends."),
        ("活动尚未结束", "活动结束后再看效果。"),
    ),
    "activity_after_missing": (
        ("No days after the activity yet", "Read the pull-forward dip once the week after is in the data."),
        ("尚无活动后的数据", "活动后一周的数据到齐后再看透支效应。"),
    ),
    "activity_history_masked": (
        ("Other activities left out of the history", "Nothing to do: their days are not used as a normal baseline."),
        ("历史数据中剔除了其他活动", "无需处理：其他活动的日子不作为正常基线。"),
    ),
    "short_history": (
        ("Too little history for this figure", "Read the periods it names as unknown, or load the earlier orders."),
        ("历史数据不足以计算该指标", "所列周期的数值未知，或补充更早的订单数据。"),
    ),
    "anomaly": (
        ("A day outside the expected range", "Check tracking and listings for that day before reading it as demand."),
        ("某天超出预期区间", "先检查当天的埋点和商品上下架，再把它当作需求变化。"),
    ),
    "missing_day": (
        ("A day with no data", "Re-import the day, or leave it out before reading the trend."),
        ("某天没有数据", "重新导入当天数据，或剔除该天后再看趋势。"),
    ),
    "attribution_window": (
        ("Orders outside the attribution window", "Widen the window or read these orders as unattributed."),
        ("订单超出归因窗口", "放宽归因窗口，或把这些订单视为未归因。"),
    ),
    "bot_traffic": (
        ("Suspected bot traffic", "Read the rates without these visitors (the figures given)."),
        ("疑似机器流量", "请使用剔除这些访客后的转化率。"),
    ),
    "currency_units": (
        ("Amounts look like cents, not yuan", "Divide the amounts by 100 or check the export's unit."),
        ("金额疑似以分为单位", "将金额除以 100，或核对导出文件的单位。"),
    ),
    "duplicate_rows": (
        ("Duplicated rows", "Remove the duplicates; the metrics leave them out and count them."),
        ("重复行", "删除重复行；指标计算已剔除并计数。"),
    ),
    "few_repeat_buyers": (
        ("Few repeat buyers", "Treat customer-value figures as rough until more buyers return."),
        ("复购买家过少", "复购买家更多之前，客户价值仅作参考。"),
    ),
    "fit_not_converged": (
        ("Model fit did not converge", "Use more data or the simpler estimate shown."),
        ("模型拟合未收敛", "增加数据量，或使用所给的简单估计。"),
    ),
    "holdout_mismatch": (
        ("Holdout period does not match", "Align the holdout with the calibration period."),
        ("验证期与校准期不一致", "让验证期与校准期对齐。"),
    ),
    "immature_period": (
        ("Recent orders not yet settled", "Wait for payments to settle before reading the last days."),
        ("近期订单尚未结算", "等待付款结算后再看最近几天的数据。"),
    ),
    "impossible_rate": (
        ("A rate above 100%", "Check that numerator and denominator count the same people."),
        ("转化率超过 100%", "核对分子和分母是否统计同一批人。"),
    ),
    "imprecise_estimates": (
        ("Imprecise estimates", "Read the intervals, not the point values."),
        ("估计不精确", "请看区间，而不是单个数值。"),
    ),
    "markov_no_nulls": (
        ("No journeys without a conversion", "Pass journeys that did not convert too."),
        ("缺少未转化的访问路径", "同时提供未转化的访问路径。"),
    ),
    "missing_column": (
        ("Missing column", "Add the column or map yours to it with columns=."),
        ("缺少字段", "补充该字段，或用 columns= 指定对应字段。"),
    ),
    "mix_shift": (
        ("The traffic mix moved the total", "Judge each source by its own rate, not by the store total."),
        ("全店变化来自流量结构", "按各来源自身的转化率判断，不要只看全店整体。"),
    ),
    "mixed_time_zones": (
        ("Mixed time zones", "Convert every timestamp to the store's time zone."),
        ("时区不一致", "将所有时间统一换算到店铺时区。"),
    ),
    "multi_day_uniques": (
        ("Unique counts summed over days", "Use a one-day export, or the store-level figure."),
        ("多日去重人数被相加", "使用按日导出的数据，或全店层面的数字。"),
    ),
    "no_conversions": (
        ("No conversions", "Wait for more data before reading the rates."),
        ("没有转化", "数据更多之前先不要解读转化率。"),
    ),
    "no_trials": (
        ("No trials", "Check the experiment's assignment data."),
        ("没有试验样本", "检查试验的分组数据。"),
    ),
    "nonpositive_repeat_spend": (
        ("Repeat spend of zero or less", "Check refunds and amounts of the repeat orders."),
        ("复购金额不大于零", "核对复购订单的退款和金额。"),
    ),
    "order_brushing": (
        ("Suspected order brushing (刷单)", "Report sales and conversion without these orders (the figures given)."),
        ("疑似刷单", "剔除这些订单后再报告销售额和转化率（见所给数字）。"),
    ),
    "p_alive_one_time_buyers": (
        ("One-time buyers' chance of returning", "Read it as a model assumption, not an observation."),
        ("一次性买家的回购概率", "这是模型假设，不是观测结果。"),
    ),
    "presale_zero_payment": (
        ("Presale product: payment conversion reads 0", "Use order conversion or deposit conversion for this product."),
        ("预售商品：支付转化率为 0", "该商品请使用下单转化率或定金转化率。"),
    ),
    "rating_brushing": (
        ("Suspected rating brushing (刷单)", "Read the DSR without these ratings (the scores given)."),
        ("疑似刷评", "请使用剔除这些评价后的动态评分。"),
    ),
    "refund_inflated": (
        ("Refunds inflate the paid amount", "Report the paid amount net of refunds."),
        ("退款虚增了支付金额", "报告扣除退款后的支付金额。"),
    ),
    "roas_named_roi": (
        ("The back-end's \u201cROI\u201d is ROAS", "Read it as sales / spend; profit / spend is lower."),
        ("后台的“投入产出比”即 ROAS", "它是销售额 / 花费；利润 / 花费会更低。"),
    ),
    "sample_ratio_mismatch": (
        ("Groups of unexpected sizes", "Check the assignment before reading the experiment."),
        ("分组样本比例异常", "解读试验前先检查分组。"),
    ),
    "series_too_short": (
        ("Series too short", "Give at least two full weeks of days."),
        ("序列过短", "至少提供两个完整周的每日数据。"),
    ),
    "single_buyer_dominates": (
        ("One buyer dominates", "Read the figure with and without this buyer."),
        ("单个买家占比过高", "分别查看包含和不含该买家的数字。"),
    ),
    "small_sample": (
        ("Small sample", "Read the interval; wait for more visitors before acting on the rate."),
        ("样本过小", "请看区间；访客更多之前不要据此行动。"),
    ),
    "spend_frequency_correlation": (
        ("Spend and frequency are correlated", "The spend model assumes they are not: read it as rough."),
        ("客单金额与购买频次相关", "消费模型假设二者无关，结果仅作参考。"),
    ),
    "spend_mean_undefined": (
        ("Average spend is undefined", "Use more repeat buyers or the observed average."),
        ("平均消费无法估计", "增加复购买家，或使用观测平均值。"),
    ),
    "spend_without_traffic": (
        ("Spend without traffic", "Check the source names of the spend report."),
        ("有花费但没有流量", "核对推广报表中的来源名称。"),
    ),
    "standard_errors_unavailable": (
        ("No standard errors", "Read the point estimates as rough."),
        ("无法计算标准误", "点估计仅作参考。"),
    ),
    "summed_uniques": (
        ("Unique visitors summed over rows", "Use the store-level visitor count, not the sum of rows."),
        ("去重访客数被逐行相加", "请使用全店层面的访客数，而不是各行之和。"),
    ),
    "too_few_repeat_buyers": (
        ("Too few repeat buyers", "Wait for more repeat purchases before fitting the model."),
        ("复购买家太少", "等待更多复购后再拟合模型。"),
    ),
    "tracking_gap": (
        ("Tracking gap", "Leave the day out or re-import its events before reading the week."),
        ("埋点缺失", "剔除该天或重新导入当天数据后再看本周。"),
    ),
    "traffic_without_spend": (
        ("Paid traffic without spend", "Add the source's spend report to compute its ROAS."),
        ("付费流量没有花费记录", "补充该来源的推广花费报表以计算 ROAS。"),
    ),
    "unattributed_conversions": (
        ("Conversions without a source", "Read the attribution as covering part of the sales."),
        ("转化没有来源", "归因结果只覆盖部分销售额。"),
    ),
    "unchecked_column": (
        ("Column not checked", "Map the column to a known name with columns= to check it."),
        ("字段未校验", "用 columns= 指定为已知字段后即可校验。"),
    ),
    "underpowered": (
        ("Too small to detect the effect", "Run the test longer or on more traffic."),
        ("样本不足以检出效果", "延长试验或增加流量。"),
    ),
    "unknown_event": (
        ("Unknown event names", "Map the events to view / cart / favorite / order with columns=."),
        ("未知事件类型", "用 columns= 将事件对应到浏览 / 加购 / 收藏 / 下单。"),
    ),
    "unparseable_time": (
        ("Times that do not parse", "Correct or blank these cells in the file."),
        ("无法识别的时间", "在文件中修正或清空这些单元格。"),
    ),
    "unparseable_number": (
        ("Numbers that do not parse", "Correct or blank these cells in the file."),
        ("无法识别的数字", "在文件中修正或清空这些单元格。"),
    ),
    "variant_contamination": (
        ("Visitors in several variants", "Leave those visitors out of the test."),
        ("访客出现在多个实验组", "从试验中剔除这些访客。"),
    ),
    "window_truncated": (
        ("The rating window is cut short", "Give ratings reaching back over the whole window."),
        ("评分窗口不完整", "提供覆盖整个窗口的评价数据。"),
    ),
    "wrong_type": (
        ("Column of the wrong type", "Give the column as numbers, text or datetimes."),
        ("字段类型错误", "请以数字、文本或日期时间提供该字段。"),
    ),
    "not_a_number": (
        ("Cells that are not numbers", "Correct or blank these cells."),
        ("单元格不是数字", "修正或清空这些单元格。"),
    ),
    "not_a_whole_number": (
        ("Counts that are not whole numbers", "Check the column: counts are whole numbers."),
        ("计数不是整数", "检查该字段：计数应为整数。"),
    ),
    "null_keys": (
        ("Rows without a key", "Fill in the ids or leave those rows out."),
        ("缺少主键的行", "补齐编号，或剔除这些行。"),
    ),
    "negative_values": (
        ("Negative values", "Check the rows; the metrics leave them out and count them."),
        ("负值", "检查这些行；指标计算已剔除并计数。"),
    ),
    "score_out_of_range": (
        ("Scores outside 1 to 5", "Correct the scores; ratings are 1 to 5."),
        ("评分超出 1 到 5", "修正评分；评分应在 1 到 5 之间。"),
    ),
    "paid_before_created": (
        ("Paid before the order was created", "Check the time columns of these orders."),
        ("付款早于下单", "检查这些订单的时间字段。"),
    ),
    "float_ids": (
        ("Ids stored as numbers", "Read the ids as text so that no digits are lost."),
        ("编号被存为数字", "将编号按文本读取，避免丢失位数。"),
    ),
    "id_as_number": (
        ("Ids saved as numbers", "Export the file again with the id column as text."),
        ("编号被保存为数字", "重新导出文件，并将编号列设为文本。"),
    ),
    "unknown_status": (
        ("Unknown order status", "Map the statuses to paid / unpaid / refunded."),
        ("未知订单状态", "将订单状态对应到已付款 / 未付款 / 已退款。"),
    ),
    "order_level_differs": (
        ("Order-level cells differ between lines", "Check the file's order rows."),
        ("同一订单的订单级字段不一致", "检查文件中的订单行。"),
    ),
    "line_without_order": (
        ("A line without an order id", "Check the file's first lines."),
        ("明细行缺少订单编号", "检查文件开头几行。"),
    ),
}  # fmt: skip
