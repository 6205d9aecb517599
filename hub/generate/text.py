"""Free-text fields that read like what a trading centre publishes: a phone number where the
field holds a phone, an address where it holds an address, a person's name where a person
is meant, a sentence on the subject of the field elsewhere.  Chosen by the field's Chinese
name (the dictionary's 中文名) and, for the data sets the reference left unnamed, its id.
"""

from __future__ import annotations

import random

ROADS = ["五一中路", "湖东路", "八一七北路", "江滨大道", "工业路", "福新路", "华林路", "六一路"]
DISTRICTS = ["鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区", "闽侯县", "连江县"]
MEDIA = [
    "中国招标投标公共服务平台",
    "全国公共资源交易平台（福建省）",
    "福建省公共资源交易电子公共服务平台",
    "中国政府采购网",
    "福州市公共资源交易网",
]
EDUCATION = ["本科", "硕士研究生", "博士研究生", "大专"]
DUTIES = ["总工程师", "副总经理", "技术负责人", "项目经理", "高级工程师", "部门经理"]
MAJORS = ["房屋建筑工程", "市政公用工程", "水利水电工程", "公路工程", "机电工程", "工程造价"]
ORGS = ["福州市住房和城乡建设局", "福州市财政局", "福建省发展和改革委员会", "福州市水利局",
        "福州市交通运输局", "福州市公共资源交易服务中心"]  # fmt: skip
INSTITUTES = [
    "福州大学土木工程学院",
    "福建工程学院",
    "福建省建筑设计研究院有限公司",
    "福州市规划设计研究院",
    "福建省交通规划设计院有限公司",
    "福建省水利水电勘测设计研究院",
    "福建省建筑科学研究院",
]
BANKS = [
    "中国工商银行福州分行",
    "中国建设银行福建省分行",
    "兴业银行福州分行",
    "中国银行福州鼓楼支行",
]
INSURERS = ["中国人民财产保险股份有限公司福州市分公司", "中国太平洋财产保险股份有限公司福建分公司"]
METHODS = {
    "递交": "通过福建省电子招标投标交易平台在线递交加密的电子投标文件",
    "获取": "登录电子交易平台使用CA数字证书免费下载招标文件",
    "开启": "在线开启，投标人远程解密",
    "开标": "电子开标，投标人远程解密",
    "支付": "银行转账",
    "异议": "以书面形式向招标人提出，并附相关证明材料",
    "评": "经评审的最低投标价法",
}
SENTENCES = {
    "资格": "具备建设行政主管部门核发的相应施工总承包资质，近三年无重大质量安全事故。",
    "澄清": "对招标文件第三章评标办法中的报价评分细则予以澄清，投标截止时间不变。",
    "质疑": "认为评标委员会对我单位业绩的认定有误，请予复核。",
    "投诉": "投诉人认为中标候选人提供的项目负责人业绩不真实，请求调查处理。",
    "处罚": "依据《中华人民共和国招标投标法》第五十四条的规定，处中标项目金额千分之五的罚款。",
    "依据": "《中华人民共和国招标投标法实施条例》第七十七条",
    "评标": "评标委员会按招标文件规定的评标办法对投标文件进行评审，推荐中标候选人三名。",
    "开标": "开标会议按时举行，各投标人报价已当众宣读，无异议。",
    "合同": "按施工图纸及工程量清单完成全部施工内容，工期一百八十日历天，质量合格。",
    "履约": "按合同约定完成施工任务，已通过竣工验收。",
    "异常": "开标时仅有两家投标人递交投标文件，依法重新招标。",
    "公告": "本项目已具备招标条件，现对该项目施工进行公开招标，欢迎符合条件的投标人参加。",
    "公示": "经评标委员会评审，现将中标候选人公示如下，公示期内对结果有异议的可向招标人提出。",
    "结果": "经评审，推荐的第一中标候选人为本项目中标人。",
    "内容": "本标段包括土建、安装及附属工程等全部施工内容。",
    "监管": "同意按批准的招标方案组织实施，请按规定做好交易过程监督。",
    "报警": "投标截止时投标人数量不足三家，系统自动预警。",
    "理由": "相关处罚已执行完毕，信用修复申请经审核通过。",
}
FUNDS = ["财政资金", "自筹资金", "国有企业自有资金", "地方政府专项债券资金"]
SCALES = ["建筑面积约1.2万平方米", "道路全长约3.6公里", "总投资约4800万元", "新建管网约12公里"]
DEFAULT = "按照国家有关法律法规组织实施，资金已落实，具备招标条件。"
# a word of the field's Chinese name → the values it takes
CHOICES = [("资金来源", FUNDS), ("规模", SCALES), ("媒体", MEDIA), ("学历", EDUCATION),
           ("职务", DUTIES), ("银行", BANKS), ("承保人", INSURERS)]  # fmt: skip
PERSON_WORDS = ("姓名", "责任人", "联系人", "发布人", "处理人", "创建人", "申请人", "代表人",
                "负责人", "签名", "CONNECTOR")  # fmt: skip


def _fit(s: str, limit: int | None) -> str:
    return s if limit is None else s[:limit]


def phone(rng: random.Random) -> str:
    return rng.choice(["139", "138", "135", "150", "188", "0591-"]) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def address(rng: random.Random) -> str:
    return f"福建省福州市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"


def hexes(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(n))


def mac(rng: random.Random) -> str:
    return "-".join(hexes(rng, 2) for _ in range(6))


def text(rng: random.Random, fid: str, name_cn: str, limit: int | None, person: str) -> str:
    """A value for a free-text field; ``person`` is a generated name, used where a person is
    meant."""
    n = name_cn or fid
    if "MAC" in n:
        return _fit(mac(rng), limit)
    if "MD5" in n:
        return _fit(hexes(rng, 32).lower(), limit)
    if fid in ("CPU_ID", "HARD_DISK_SERIAL_NUMBER", "MEMORY_SERIAL_NUMBER", "NET_ID"):
        return _fit(hexes(rng, 16), limit)
    if "电话" in n or "联系方式" in n or "PHONE" in fid:
        return _fit(phone(rng), limit)
    if "邮箱" in n or "MAIL" in fid:
        return _fit(f"zb{rng.randrange(1000, 99999)}@163.com", limit)
    if "网站" in n:
        return _fit(f"https://www.fz{rng.randrange(100, 999)}.com.cn", limit)
    if any(w in n for w in ("地址", "地点", "坐落", "地理位置")):
        return _fit(address(rng), limit)
    if "证书" in n:
        return _fit(f"一级建造师 闽1{rng.randrange(10**9, 10**10)}", limit)
    if any(w in n for w in PERSON_WORDS):
        return _fit(person, limit)
    for word, choices in CHOICES:
        if word in n:
            return _fit(rng.choice(choices), limit)
    if any(w in n for w in ("部门", "机关", "单位", "监管", "发证")) and "内容" not in n:
        return _fit(rng.choice(ORGS), limit)
    if "大小" in n:
        return _fit(f"{rng.randrange(2, 80)}.{rng.randrange(10)}MB", limit)
    if "状态" in n:
        return _fit(rng.choice(["有效", "已生效"]), limit)
    if "标题" in n:
        return _fit(rng.choice(["施工招标公告", "中标结果公告", "成交公示", "更正公告"]), limit)
    for word, method in METHODS.items():
        if word in n and ("方式" in n or "方法" in n or "办法" in n):
            return _fit(method, limit)
    for word, sentence in SENTENCES.items():
        if word in n:
            return _fit(sentence, limit)
    if not name_cn:  # reference rows without a Chinese name: a short neutral value
        return _fit(f"{rng.randrange(1, 1000)}", limit)
    return _fit(DEFAULT, limit)
