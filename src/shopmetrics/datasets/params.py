"""The demo store's fixed parameters: vocabularies, shares, rates and trap settings.

The codes (``SEARCH``, ``VISIT``, ``PAID``, ...) index the vocabularies (``SOURCES``,
``EVENTS``, ``STATUSES``, ...); the shares and rates are the truth the store is drawn
from (see :mod:`shopmetrics.datasets` for what they mean together). Times are integer
seconds from the start of the period; :data:`NA` marks a missing one.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

TZ: Final = "Asia/Shanghai"
"""The store's time zone; all timestamps are naive local times in it."""

DAY: Final = 86_400
HOUR: Final = 3_600
NA: Final = int(np.iinfo(np.int64).min)  # a missing time in seconds; becomes NaT

EVENTS: Final = ("exposure", "click", "visit", "inquiry", "cart", "favorite")
EXPOSURE, CLICK, VISIT, INQUIRY, CART, FAVORITE = range(6)

SOURCES: Final = ("search", "recommend", "shop", "paid_search", "display")
SEARCH, RECOMMEND, SHOP, PAID_SEARCH, DISPLAY = range(5)
SOURCE_SHARE: Final = (0.36, 0.24, 0.16, 0.14, 0.10)
SOURCE_CONVERSION: Final = (1.0, 0.75, 1.6, 1.2, 0.45)
SOURCE_CPC: Final = (math.nan, math.nan, math.nan, 1.3, 0.6)

DEVICES: Final = ("mobile", "pc")
MOBILE, PC = range(2)
MOBILE_SHARE: Final = 0.85

CAMPAIGNS: Final = ("ztc_brand", "ztc_generic", "zz_retarget", "zz_crowd")
ZTC_BRAND, ZTC_GENERIC, ZZ_RETARGET, ZZ_CROWD = range(4)
CAMPAIGN_SOURCE: Final = (PAID_SEARCH, PAID_SEARCH, DISPLAY, DISPLAY)

CATEGORIES: Final = (
    "home_storage",
    "kitchen",
    "stationery",
    "bags",
    "phone_accessories",
    "pet_supplies",
)
CATEGORY_PRICE: Final = (29.0, 39.0, 12.0, 59.0, 19.0, 35.0)
CATEGORY_KEYWORDS: Final = (
    ("收纳盒", "收纳箱 大号"),
    ("厨房置物架", "保鲜盒 套装"),
    ("中性笔 批发", "笔记本 本子"),
    ("帆布包 女", "双肩包 学生"),
    ("手机壳", "数据线 快充"),
    ("猫砂盆", "宠物碗 不锈钢"),
)
BRAND_KEYWORDS: Final = ("乐家优品", "乐家优品 旗舰店")
KEYWORDS: Final = (*(k for pair in CATEGORY_KEYWORDS for k in pair), *BRAND_KEYWORDS)

STATUSES: Final = ("paid", "unpaid", "refunded", "presale_deposit")
PAID, UNPAID, REFUNDED, PRESALE_DEPOSIT = range(4)

CARRIERS: Final = ("ZTO", "YTO", "YUNDA", "STO", "SF")
CARRIER_SHARE: Final = (0.32, 0.25, 0.15, 0.15, 0.13)
CARRIER_LOGISTICS: Final = (0.0, 0.0, -0.05, -0.65, 0.3)  # latent shift of logistics scores
YTO: Final = 1
REGIONS: Final = (
    "Zhejiang",
    "Guangdong",
    "Jiangsu",
    "Shanghai",
    "Beijing",
    "Shandong",
    "Fujian",
    "Sichuan",
    "Henan",
    "Hubei",
)
REGION_SHARE: Final = (0.17, 0.17, 0.13, 0.09, 0.07, 0.09, 0.07, 0.08, 0.07, 0.06)
SCORE_THRESHOLDS: Final = (-2.17, -1.96, -1.645, -1.08)  # 1.5% 1s, ... 86% 5s

HOUR_WEIGHT: Final = (
    0.9, 0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 0.7, 1.3, 2.0, 2.6, 2.7,
    2.3, 2.2, 2.5, 2.6, 2.5, 2.3, 2.2, 2.6, 3.3, 3.8, 3.6, 2.2,
)  # fmt: skip
WEEKDAY_WEIGHT: Final = (1.0, 0.98, 0.97, 0.99, 1.02, 1.08, 1.1)  # Monday first

SAME_DAY_SHARE: Final = 0.10  # sessions that are a visitor's second session that day
RETURNING_SHARE: Final = 0.22  # sessions of visitors first seen on an earlier day
LANDING_EXPOSURES: Final = 0.4  # extra exposures of the clicked item, beyond one
EXTRA_VISITS: Final = 0.9  # mean further item pages viewed in a session
PAID_SHARE: Final = 0.9  # orders that get paid
BUYER_CART: Final = 0.55  # converting sessions that use the cart
SECOND_LINE: Final = 0.25  # converting sessions that also buy a second viewed item
REFUND_SHARE: Final = 0.06  # of paid lines; about 5% end up refunded within the export
RATE_SHARE: Final = 0.55
HISTORY_DAYS: Final = 240

PRESALE_PRODUCT: Final = 6  # P007
BRUSH_PRODUCT: Final = 12  # P013
BOT_PRODUCT: Final = 17  # P018
BOT_IDS: Final = 20
BOT_SHARE: Final = 0.17  # bot visits relative to the day's other visits
BRUSH_BUYERS: Final = 10
BRUSH_EACH: Final = 3
MIX_TARGET: Final = 0.35  # display share of sessions in the mix-shift week
PRESALE_EXTRA: Final = 0.15  # extra order rate of presale visitors (a deposit is cheap)

REPEAT_PARAMS: Final = (
    ("bgnbd", "r", 0.6, "shape of the gamma of purchase rates"),
    ("bgnbd", "alpha", 8.0, "rate of that gamma, in weeks (mean rate r / alpha per week)"),
    ("bgnbd", "a", 0.8, "first shape of the beta of drop-out probabilities"),
    ("bgnbd", "b", 2.5, "second shape of that beta (mean a / (a + b))"),
    ("gamma_gamma", "p", 6.0, "shape of the gamma of a purchase's amount"),
    ("gamma_gamma", "q", 4.0, "shape of the gamma of the buyers' amount rates"),
    ("gamma_gamma", "v", 30.0, "rate of that gamma (mean amount p v / (q - 1), in yuan)"),
)
"""The repeat-purchase process of ``make_store(repeat_purchases=True)``."""
WEEK: Final = 7 * 86_400


PEERS: Final = (
    ("ctr", 0.032, 0.058),
    ("inquiry_rate", 0.035, 0.080),
    ("cart_rate", 0.085, 0.160),
    ("order_conversion", 0.030, 0.065),
    ("payment_conversion", 0.026, 0.058),
    ("aov", 62.0, 118.0),
    ("visitor_value", 1.6, 5.2),
)
DSR_PEERS: Final = (
    ("item", 4.78, 4.95, 4.40),
    ("service", 4.80, 4.96, 4.45),
    ("logistics", 4.77, 4.94, 4.38),
)
