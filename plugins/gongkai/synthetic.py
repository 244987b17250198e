"""Deterministic synthetic records for load, search and rendering tests.

    python -m gongkai.synthetic TARGET COUNT [--seed N]

writes COUNT valid records under ``TARGET/{cases,disclosures,reports}/<year>/<id>.yaml``
(about 40 % cases, 40 % disclosures, 20 % reports) and copies the shipped
vocabularies (``data/vocab/*.yaml``) to ``TARGET/vocab/``. Every record is
``approved`` and published between 2015 and 2025, so none is embargoed.

The output depends only on ``(count, seed)`` and the vocabulary files: one
``random.Random(seed)``, no clock, no global random state, no set iteration.
Vocabulary references are drawn from the vocabularies themselves (a case's
circumstances from its regime, its forms among those allowed for the regime
and subject kind), written sometimes as the entry's id and sometimes as its
exact name. About one record in ten is written in Traditional characters;
those refer to vocabularies by id only (a converted name would not match).

Old ``syn-*.yaml`` files under the three record folders of TARGET are removed
first, so a smaller second run leaves no stale records behind; other files
are left alone.
"""

from __future__ import annotations

import argparse
import json
import json.encoder
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path
from random import Random
from string import Formatter

import yaml

try:  # libyaml when available: same result, faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader

VOCAB_DIR = Path(__file__).resolve().parents[2] / "data" / "vocab"
KIND_DIRS = {"case": "cases", "disclosure": "disclosures", "report": "reports"}
KIND_CYCLE = ("case", "disclosure", "case", "disclosure", "report")  # 40 / 40 / 20
FIRST_DAY = date(2015, 1, 1)
LAST_DAY = date(2025, 12, 31)

# --------------------------------------------------------------------------
# Fixed pools. Varied on purpose, so that search tests find distinct names.
# --------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐")
TOWN_HEADS = "青白石金银玉柳桃杏梅竹松枫桂兰荷清明新安永丰和平太长东西南北龙凤鹤鹿云雨溪泉河湖山岭峰坪坝塘湾桥"
TOWN_TAILS = "禾溪桥坪岭湾塘口江川源林山河庄铺集店寨岗峪沟滩洲垭岔埠"
TOWN_SUFFIXES = ("镇", "镇", "乡", "街道")
VILLAGES = "上中下前后大小新老高低东西南北"
UNITS = (
    "交通运输局", "水利局", "自然资源和规划局", "住房和城乡建设局", "生态环境局", "应急管理局",
    "农业农村局", "教育局", "卫生健康局", "民政局", "人力资源和社会保障局", "财政局",
    "市场监督管理局", "医疗保障局", "城市管理局", "林业局", "文化和旅游局", "商务局",
    "统计局", "审计局", "行政审批局", "乡村振兴局", "退役军人事务局", "公共资源交易中心",
    "不动产登记中心", "政务服务中心", "供销合作社联合社", "机关事务管理局", "信访局", "粮食和物资储备局",
)
PROJECT_KINDS = (
    "公路改造工程", "污水处理厂提标改造工程", "农村饮水安全巩固提升工程", "老旧小区改造项目",
    "高标准农田建设项目", "中小学校舍维修工程", "河道综合治理工程", "垃圾中转站建设项目",
    "安置房建设项目", "乡村振兴产业园项目", "冷链物流中心项目", "智慧城管平台建设项目",
    "卫生院业务用房建设项目", "桥梁危桥改造工程", "水库除险加固工程", "集贸市场升级改造项目",
)
LEADER_POSTS = (
    ("局长", "县处级"), ("副局长", "副县处级"), ("党组书记", "县处级"), ("党组成员、副局长", "副县处级"),
    ("主任", "县处级"), ("副主任", "副县处级"), ("科长", "乡科级"), ("副科长", "副科级"),
)
TOWN_POSTS = (
    ("党委书记", "乡科级"), ("镇长", "乡科级"), ("党委副书记", "乡科级"), ("副镇长", "副科级"),
    ("纪委书记", "副科级"), ("人大主席", "乡科级"),
)
DOC_ABBR = ("政发", "政办发", "委发", "委办发", "纪发", "财预", "交发", "环发", "应急", "教发")
ASKERS = ("纪委委员", "人大代表（列席）", "政协委员（列席）", "党风政风监督员", "基层党员代表")
EVAL_METHODS = ("民主测评", "满意度测评", "现场测评", "网络测评")
FOLLOW_UPS = ("提醒谈话", "诫勉谈话", "限期整改", "函询", "约谈")
STAGE_ORDER = ("启动", "调查", "决定", "审查", "执行")

# Scenario: (topic name, short reason for a title, facts with {slots}).
SCENARIOS = (
    ("交通建设", "道路工程建设管理失职", (
        "{year}年，{place}{project}未经集体研究即擅自开工，施工过程中设计变更{n}次，其中多次未履行审批程序。",
        "项目监理单位先后{n3}次书面报告工程质量问题，{name}均未组织核查。",
        "部分路段通车不足一年即出现大面积开裂、沉陷，群众出行受到影响。",
        "经审计，该项目虚增工程量、多计工程款共计{amount}万元。",
        "施工单位存在违法分包问题，相关监管部门对此长期失察。",
    )),
    ("生态环境保护", "生态环境问题整改不力", (
        "{year}年上级生态环境保护督察反馈指出，{place}辖区河段长期存在生活污水直排问题。",
        "{unit}在整改中以临时投放药剂代替截污纳管，向上级报送的整改报告与实际情况严重不符。",
        "群众通过热线反映水体黑臭问题{n}次，均未得到有效处理。",
        "督察“回头看”发现，已销号的{n3}个问题中有多个出现反弹。",
        "有关部门对辖区内{n}家企业的排污许可执行情况未开展检查。",
    )),
    ("安全生产", "安全生产监管不力", (
        "{year}年，{place}一处企业仓库发生火灾事故，造成人员受伤和较大财产损失。",
        "事故调查认定，该企业此前已被列入隐患清单，{unit}未督促落实整改，日常检查流于形式。",
        "{name}作为分管负责人，对辖区安全隐患排查整治工作部署不力，负有重要领导责任。",
        "事故发生后，有关单位未按规定时限上报信息，影响了应急处置。",
        "该企业消防通道被长期占用，{unit}检查记录却多次填写“无问题”。",
    )),
    ("教育", "教育民生问题处置不当", (
        "{year}年，{place}多所学校违规向学生征订教辅资料，收取费用共计{amount}万元。",
        "家长多次向{unit}反映，相关负责人以“学校自主行为”为由推诿，未及时制止。",
        "问题经媒体报道后引发社会关注，造成不良影响。",
        "部分学校还存在以“兴趣班”名义变相组织有偿补课的问题。",
        "{unit}对学校收费行为的专项检查连续{n3}年未按计划开展。",
    )),
    ("医疗卫生", "医疗机构监管失职", (
        "{year}年，{place}卫生院存在虚构诊疗项目、套取医保基金问题，涉及金额{amount}万元。",
        "{unit}在日常监管中未发现上述问题，对群众举报线索未按规定核查。",
        "{name}分管医疗机构监管工作，对违规问题长期失察。",
        "该卫生院药品采购未严格执行集中采购规定，部分药品价格明显偏高。",
        "上级飞行检查发现，{n}份病历存在明显涂改痕迹。",
    )),
    ("扶贫", "帮扶资金监管不力", (
        "{year}年，{place}衔接推进乡村振兴补助资金中有{amount}万元闲置超过一年。",
        "{n}个产业帮扶项目建成后长期未投入使用，部分脱贫户应得分红未按时兑现。",
        "{unit}对项目资产管理混乱，未建立资产台账。",
        "部分帮扶资金被用于修建办公场所附属设施，改变了资金用途。",
        "对脱贫户反映的问题，有关部门未按规定登记办理。",
    )),
    ("食品药品安全", "食品安全监管不力", (
        "{year}年，{place}校园周边多家食品经营店销售过期食品，被群众举报后仍未得到查处。",
        "{unit}对举报线索登记后未安排执法检查，{n}件投诉超期未办结。",
        "{name}对分管领域食品安全监管工作督促检查不力。",
        "抽检发现，{place}农贸市场{n3}批次蔬菜农药残留超标，相关部门未及时处置。",
        "执法人员对已立案的违法行为未按期作出处理决定。",
    )),
    ("财政资金", "财政资金管理失职", (
        "{year}年，{unit}在未取得项目验收材料的情况下拨付专项资金{amount}万元。",
        "审计指出问题后，相关负责人未督促整改，资金至今未能全部追回。",
        "{name}作为分管负责人，对科室违规拨付资金问题监督缺位。",
        "部分专项资金被用于发放津贴补贴，违反财经纪律。",
        "{unit}财务内控制度形同虚设，{n}笔大额支出未经集体研究。",
    )),
    ("干部选拔任用", "干部选拔任用把关不严", (
        "{year}年，{place}科级干部调整中，{n3}名考察对象档案存在涂改问题未被发现。",
        "{unit}未严格执行干部人事档案“凡提四必”要求，考察工作走过场。",
        "{name}在干部选拔任用工作中把关不严，造成用人失察。",
        "个别干部带病提拔后又因违纪问题受到处分，造成不良影响。",
        "民主推荐环节存在会议推荐票数统计不规范问题。",
    )),
    ("基层治理", "基层治理工作不作为", (
        "{year}年，{place}群众反映的村集体资产承包合同不公开问题持续发酵，{n}名群众多次上访。",
        "{unit}对信访事项层层转办，未组织实地核查，矛盾长期得不到化解。",
        "{name}对群众诉求漠然置之，造成不良社会影响。",
        "村级“三资”管理混乱，{n3}份承包合同未经村民代表会议讨论。",
        "有关部门对村务公开栏长期不更新的问题未督促整改。",
    )),
    ("营商环境", "优化营商环境工作慢作为", (
        "{year}年，{place}企业开办、工程建设项目审批平均用时超过承诺时限{n}个工作日。",
        "{unit}窗口工作人员多次要求企业提交法律法规未规定的证明材料。",
        "{name}对窗口作风问题管理松懈，对企业投诉未建立台账跟踪办理。",
        "部分惠企政策资金兑现迟缓，{n3}家企业反映申报材料多次被退回。",
        "“一网通办”平台上线后，{unit}仍要求企业线下重复提交材料。",
    )),
    ("社会保障", "社会保障资金发放失职", (
        "{year}年，{place}城乡低保动态管理不到位，{n}名不符合条件人员长期领取低保金。",
        "{unit}对入户核查工作督促不力，审核审批把关不严，造成资金损失{amount}万元。",
        "{name}分管社会救助工作，对上述问题负有直接领导责任。",
        "部分符合条件的困难群众申请救助后长期得不到答复。",
        "临时救助资金发放台账缺失，{n3}笔资金去向无法核实。",
    )),
)
PROCESS = (
    "{region}纪委监委在日常监督中发现相关问题线索，经初步核实后依规依纪依法开展调查。",
    "调查期间，调查组调阅了会议记录、项目档案和财务凭证{n2}份，与有关人员谈话{n}人次。",
    "调查组深入{place}实地走访群众{n2}户，逐一核实问题情况。",
    "{year}年{month}月，上级巡察组在巡察中发现该问题，并将线索移交{region}纪委监委。",
    "相关问题线索最早来源于群众来信，反映时间可追溯至{year}年。",
    "经查，有关单位在问题发生后未按规定及时报告，存在迟报情况。",
    "调查组调取了{project}的招标文件、合同及验收资料，发现多处手续不全。",
    "有关人员在接受谈话时对问题事实予以确认。",
    "其间，{unit}曾召开专题会议研究整改，但会议确定的事项大部分未落实。",
    "{name}在说明情况时表示，对有关问题的危害性认识不足。",
    "调查还发现，{unit}内部管理制度不健全，{n3}项制度长期未修订。",
    "问题暴露后，{unit}先后{n3}次向上级报送整改情况，但报送内容与实际不符。",
    "审理阶段，审理人员对事实证据、定性处理和程序手续进行了全面审核。",
    "按照规定，调查组就问责事实与{name}见面，听取了本人陈述和申辩。",
    "调查组先后赴{place}等地调取原始凭证，并对相关合同履约情况逐项比对。",
    "经审计部门配合，对{project}的资金拨付记录进行了专项核查。",
    "调查组还向{n3}家相关企业了解情况，核实了有关事实。",
    "针对群众反映的问题，调查组随机抽取{n}户群众进行电话回访。",
)
RECTIFY = (
    "目前，{unit}已制定整改方案，建立问题清单、任务清单和责任清单，明确整改措施{n}项。",
    "相关违规资金{amount}万元已全部追回。",
    "{region}已在全域开展同类问题专项排查，共排查整改问题{n2}个。",
    "{unit}召开专题民主生活会，班子成员逐一对照检查、作出整改承诺。",
    "有关单位已修订完善内部管理制度{n3}项，堵塞管理漏洞。",
)
WARNINGS = (
    "各级党组织和党员领导干部要以案为鉴、以案促改，切实担负起管党治党政治责任。",
    "各级各部门要举一反三，深入排查本地区本单位同类问题，做到立行立改。",
    "领导干部要牢固树立正确政绩观，坚决纠治形式主义、官僚主义。",
    "对失职失责、造成严重后果的，发现一起、查处一起，绝不姑息。",
    "要持续释放失责必问、问责必严的强烈信号，推动各级干部担当作为。",
    "各级纪检监察机关要精准规范问责，防止问责不力和问责泛化简单化。",
)
DISCLOSURE_TITLES = {
    "政务公开": (
        "关于印发《{place}{topic}工作实施方案》的通知",
        "{unit}{year}年部门预算公开",
        "{unit}{year}年度部门决算公开",
        "关于{project}的批复",
        "{region}{year}年{topic}工作情况通报",
        "{unit}{year}年政府信息公开工作年度报告",
        "关于进一步加强{topic}工作的通知",
        "{unit}行政处罚决定信息公开（{place}某公司案）",
        "{region}{year}年{topic}专项检查结果公示",
        "{unit}关于{project}招标结果的公告",
    ),
    "党务公开": (
        "关于{n3}起{topic}领域典型问题的通报",
        "中共{unit}党组关于{year}年度落实全面从严治党主体责任情况的报告",
        "关于开展{topic}领域突出问题专项整治的工作方案",
        "{region}召开专题会议研究部署{topic}工作",
        "关于{year}年度党风廉政建设责任制考核结果的通报",
        "关于{place}党组织换届选举工作情况的通报",
    ),
}
DISCLOSURE_PARAS = (
    "本文件所称{topic}工作，是指各级机关和有关单位依法履行职责、提供公共服务过程中的相关工作。",
    "{year}年，全市共受理相关事项{n2}件，办结率达到{pct}%，群众满意度较上年提高{small}个百分点。",
    "各县（区）、各部门要高度重视，明确分管负责同志和具体承办人员，确保各项任务落到实处。",
    "对工作推进不力、群众反映强烈的，将按照有关规定严肃追责问责。",
    "{place}作为试点地区，要在{year}年底前形成可复制、可推广的经验做法。",
    "全年安排专项资金{amount}万元，重点支持{project}等项目建设。",
    "工作中遇到的问题，请及时向{unit}反馈。",
    "各地要建立月调度、季通报、年考核工作机制，定期分析研判工作进展。",
    "要充分运用政务新媒体等渠道，及时发布政策解读，回应社会关切。",
    "涉及群众切身利益的重要事项，应当通过听证会、座谈会等方式广泛听取意见。",
    "上一年度发现的{n3}个问题已全部完成整改，整改情况在门户网站同步公开。",
    "各级财政部门要加强资金监管，严禁截留、挤占、挪用专项资金。",
    "对基层反映的共性问题，由{unit}会同有关部门研究提出解决办法。",
    "统计数据显示，相关领域投诉量较上年下降{small}.{n3}%，工作成效逐步显现。",
    "{unit}要会同财政、审计等部门，对资金使用和项目实施情况开展联合检查。",
    "{year}年第{small}季度起，各地每季度末前报送工作进展情况，年底前报送全年工作总结。",
    "各有关单位要对照本文件要求，于{month}月底前完成自查，形成自查报告。",
    "对{place}等重点地区，要加密督导频次，实行挂图作战、销号管理。",
    "本文件执行中的具体问题，由{unit}负责解释；法律法规另有规定的，从其规定。",
    "鼓励有条件的地方先行先试，探索建立{topic}工作长效机制。",
    "各地要将{topic}工作经费纳入本级财政预算，保障工作正常开展。",
    "坚持问题导向，聚焦群众反映强烈的突出问题，逐项制定解决措施。",
    "要加强信息化建设，推动{topic}相关业务“一网通办”“掌上可办”。",
    "截至{year}年底，已建成标准化服务站点{n2}个，覆盖全部乡镇（街道）。",
    "对在工作中表现突出的单位和个人，按规定予以通报表扬。",
    "严格执行保密规定，涉及国家秘密、商业秘密和个人隐私的信息不予公开。",
    "{place}等{n3}个乡镇（街道）已完成试点任务，取得初步成效。",
    "本年度共召开专题协调会{n3}次，解决跨部门问题{n}个。",
    "群众可通过政务服务便民热线反映相关问题，承办单位应在规定时限内答复。",
    "市级各有关部门要按照职责分工，加强业务指导，形成工作合力。",
)
DISCLOSURE_ITEMS = (
    "建立健全工作台账，实行清单化管理",
    "加强部门协同，推动数据共享和业务联办",
    "强化监督检查，定期通报工作进展",
    "畅通群众反映问题渠道，及时回应社会关切",
    "严格落实保密审查制度，做到应公开尽公开",
    "加强业务培训，提升工作人员能力水平",
    "将工作情况纳入年度绩效考核",
    "完善应急处置预案，定期组织演练",
    "推进基层公开标准化规范化建设",
    "规范文件起草、审核、发布流程",
)
REPORT_PARAS = (
    "{year}年，本人认真履行全面从严治党“一岗双责”，主持召开党组会议研究党风廉政建设议题{n}次。",
    "与班子成员、分管科室负责人开展廉政谈话{n2}人次，督促落实廉政风险防控措施。",
    "围绕{topic}重点工作，推动{project}按期推进，全年完成投资{amount}万元。",
    "严格执行中央八项规定及其实施细则精神，未发现本人及亲属违规经商办企业问题。",
    "对{place}群众反映的问题，坚持领导干部包案化解，全年化解信访积案{n3}件。",
    "坚持民主集中制，“三重一大”事项全部提交集体研究决定。",
    "在推动{topic}工作中，仍存在调查研究不够深入、督促检查不够有力等问题。",
    "全年带队开展调研{n3}次，形成调研报告{small}篇，推动解决实际问题{n}个。",
    "落实意识形态工作责任制，专题研究意识形态工作{small}次。",
    "支持派驻纪检监察组履行监督职责，对移交的问题线索全部按期办结。",
    "严格执行个人有关事项报告制度，如实报告本人婚姻、住房、投资等情况。",
    "对巡察反馈的{n3}个问题，逐项明确责任人和整改时限，整改完成率达到{pct}%。",
    "下一步，将持续深化以案促改，健全权力运行制约和监督机制。",
    "推动建立{topic}领域廉政风险点台账，排查风险点{n2}个，制定防控措施{n}条。",
    "全年参加理论学习中心组集中学习{n3}次，撰写学习体会文章{small}篇。",
    "带头讲廉政党课{small}次，组织观看警示教育片{n3}部，开展以案促改专题教育。",
    "严格落实“第一议题”制度，及时传达学习上级重要会议精神和决策部署。",
    "对分管领域的{n}个重点项目实行清单管理，定期听取进展汇报，协调解决问题。",
    "坚持把纪律和规矩挺在前面，运用监督执纪“第一种形态”提醒谈话{n}人次。",
    "完善单位内控制度{n3}项，对财务报销、政府采购等重点环节实行全流程监管。",
    "深入{place}开展蹲点调研，收集群众意见建议{n2}条，已办结{pct}%。",
    "严格执行公务接待、公务用车管理规定，全年“三公”经费较上年下降{small}.{n3}%。",
    "坚持民主生活会制度，开展批评和自我批评，查摆问题{n3}个并逐项整改。",
    "配偶、子女均未在本人管辖的地区和业务范围内从事经商办企业活动。",
    "对本人分管的{project}，坚持廉政风险防控与项目建设同步推进。",
    "自觉接受组织监督和群众监督，如实报告个人有关事项。",
    "全年收到涉及本单位的信访举报{n3}件，均按规定转交纪检监察组办理并反馈结果。",
    "加强对下属单位“一把手”的监督，开展任前廉政谈话{n}人次。",
    "推动{topic}工作纳入年度目标考核，考核结果与评先评优挂钩。",
)
REPORT_ISSUES = (
    "对下属单位的日常监督还不够到位",
    "廉政风险防控措施落实存在薄弱环节",
    "联系服务群众的方式方法还需改进",
    "推动重点项目建设的力度还需加大",
    "对苗头性、倾向性问题抓早抓小不够",
    "理论学习与业务工作结合还不够紧密",
    "制度执行的刚性约束还需强化",
)
QUESTIONS = (
    ("针对{topic}领域群众反映集中的问题，你单位采取了哪些整改措施？",
     "已制定专项整改方案，建立问题清单和责任清单，目前已完成整改{n}项，其余问题年内销号。"),
    ("{project}建设中的廉政风险如何防控？",
     "实行项目全过程跟踪审计，关键环节由纪检监察组全程监督，并建立廉政承诺制度。"),
    ("审计指出的问题为什么整改进度滞后？",
     "主要是部分问题涉及历史遗留，需要多部门协调，已明确时间表，由主要负责同志牵头督办。"),
    ("你如何落实对班子成员的监督责任？",
     "每半年与班子成员开展一次谈心谈话，对苗头性问题及时提醒，全年提醒谈话{n}人次。"),
)

# Counts drawn afresh for every sentence that uses them: {name: (low, high)}.
_NUMBERS = {"n": (3, 40), "n2": (10, 300), "n3": (2, 12), "amount": (20, 9800), "pct": (85, 100), "small": (1, 9)}

# Simplified -> Traditional, character by character (generated once with OpenCC
# s2tw over this module's pools and the shipped vocabularies; embedded so the
# output does not depend on an installed converter or its version).
_S2T_PAIRS = (
    "万萬与與专專业業东東严嚴个個丰豐临臨为為举舉么麼义義习習乡鄉书書乱亂争爭于於云雲产產亲親从從仓倉价價众眾优優会會传傳伤傷体體余餘倾傾偿償储儲兑兌党黨兰蘭关關兴興内內写寫军軍农農冯馮决決况況准準凤鳳凭憑"
    "划劃刘劉则則刚剛别別剂劑办辦务務动動励勵区區医醫华華协協单單占佔卢盧卫衛却卻厂廠历歷压壓县縣参參双雙发發变變台臺叶葉号號后後吕呂听聽启啟吴吳员員响響园園围圍国國图圖场場坚堅坝壩垭埡处處备備复復够夠头頭"
    "孙孫学學实實审審对對导導将將尽盡层層届屆属屬岗崗岭嶺巩鞏带帶帮幫干幹并並广廣庄莊库庫应應开開异異张張弹彈强強当當录錄彻徹征徵态態总總战戰户戶执執扬揚护護报報担擔拨撥挂掛挤擠损損换換据據摆擺数數斗鬥无無"
    "旧舊时時显顯暂暫机機权權条條来來杨楊构構枫楓标標栏欄树樹档檔桥橋检檢欧歐残殘汇匯污汙汤湯沟溝洁潔测測济濟涂塗游遊湾灣滞滯满滿滥濫滩灘灾災点點热熱牵牽环環现現电電畅暢疗療监監盖蓋确確离離种種积積称稱笔筆"
    "简簡类類粮糧紧緊纠糾红紅约約级級纪紀纳納线線练練组組细細织織经經结結绕繞给給络絡绝絕统統绩績续續维維综綜缓緩网網罗羅罚罰职職联聯肃肅脱脫节節苏蘇范範荐薦药藥营營蒋蔣虚虛衔銜补補见見观觀规規视視觉覺计計"
    "订訂认認讨討训訓议議记記讲講许許论論设設访訪证證评評识識诉訴诊診试試话話询詢该該诫誡误誤说說请請诸諸诺諾读讀课課诿諉调調谈談谢謝谭譚负負财財责責败敗账賬质質贫貧购購贯貫贴貼贸貿费費贺賀贾賈资資赵趙踪蹤"
    "车車转轉较較辅輔输輸辖轄辞辭辩辯边邊达達过過运運还還进進违違连連迟遲迹跡选選遗遺邓鄧邹鄒郑鄭采採释釋鉴鑑针針钟鍾钩鉤钱錢银銀铺鋪链鏈销銷错錯键鍵镇鎮长長门門闫閆问問闲閒间間闻聞阅閱队隊阳陽阶階际際陆陸"
    "陈陳险險随隨隐隱难難韦韋韩韓项項顾顧预預领領频頻题題额額风風飞飛饮飲馈饋马馬驻駐验驗鹤鶴黄黃龙龍龚龔"
)
_S2T = str.maketrans(dict(zip(_S2T_PAIRS[0::2], _S2T_PAIRS[1::2])))


def to_traditional(text: str) -> str:
    return text.translate(_S2T)


# --------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------

class Vocab:
    """The shipped vocabularies, with helpers to write a valid reference."""

    def __init__(self, vocab_dir: Path) -> None:
        def load(name: str) -> list[dict]:
            return yaml.load((vocab_dir / f"{name}.yaml").read_text(encoding="utf-8"), Loader=_Loader) or []

        self.regions = load("regions")
        self.organizations = load("organizations")
        self.topics = load("topics")
        self.categories = load("categories")
        self.regimes = sorted(load("regimes"), key=lambda r: (int(r.get("year", 0)), str(r["id"])))
        self.forms = load("forms")
        self.initiators = load("initiators")
        self.region_by_id = {str(r["id"]): r for r in self.regions}
        self.form_by_id = {str(f["id"]): f for f in self.forms}
        self._unique = {}
        for key, entries in (("regions", self.regions), ("organizations", self.organizations),
                             ("topics", self.topics), ("categories", self.categories),
                             ("regimes", self.regimes), ("initiators", self.initiators)):
            names = [e["name"] for e in entries]
            self._unique[key] = {n for n in names if names.count(n) == 1}
        self.case_issuers = [o for o in self.organizations if "纪委" in o["name"]] or self.organizations
        self.party_issuers = [o for o in self.organizations if o["name"].startswith("中共")] or self.organizations
        self.gov_issuers = [o for o in self.organizations if not o["name"].startswith("中共")] or self.organizations

    def ref(self, rng: Random, vocab: str, entry: dict, traditional: bool) -> str:
        """An entry's id or (half the time, when unambiguous) its exact name."""
        if traditional or entry["name"] not in self._unique[vocab] or rng.random() < 0.5:
            return str(entry["id"])
        return entry["name"]

    def region_of(self, rng: Random, org: dict) -> dict:
        region = self.region_by_id.get(str(org.get("region", "")))
        return region if region is not None else rng.choice(self.regions)

    def forms_for(self, regime_id: str, kind: str) -> list[dict]:
        return [f for f in self.forms
                if regime_id in [str(r) for r in f.get("regimes", [])] and kind in f.get("subject_kinds", [])]


def _named_ref(rng: Random, entry: dict, among: list[dict], traditional: bool) -> str:
    names = [e["name"] for e in among]
    if traditional or names.count(entry["name"]) != 1 or rng.random() < 0.5:
        return str(entry["id"])
    return entry["name"]


# --------------------------------------------------------------------------
# YAML output (hand-formatted: much faster than a dumper, and stable)
# --------------------------------------------------------------------------

_quote = json.encoder.encode_basestring  # the C accelerator when available; keeps non-ASCII as is


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return _quote(text)


def flow(mapping: dict) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, date)):
            text = str(value)
        else:
            text = q(value)
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def block(text: str, indent: str = "  ") -> str:
    return "|\n" + "\n".join(indent + line if line else "" for line in text.split("\n"))


def stamp(day: date, clock: tuple[int, int] | None) -> str:
    if clock is None:
        return day.isoformat()
    return f"{day.isoformat()}T{clock[0]:02d}:{clock[1]:02d}:00+08:00"


# --------------------------------------------------------------------------
# Record builders
# --------------------------------------------------------------------------

class Maker:
    def __init__(self, vocab: Vocab, rng: Random) -> None:
        self.v = vocab
        self.rng = rng
        self.topic_by_name = {t["name"]: t for t in vocab.topics}
        self.random = rng.random
        self._fields: dict[str, tuple[str, ...]] = {}
        self._forms: dict[tuple[str, str], list[dict]] = {}
        self.orgs_by_region: dict[str, list[dict]] = {}
        for org in vocab.organizations:
            self.orgs_by_region.setdefault(str(org.get("region", "")), []).append(org)

    # ---- small pieces ---------------------------------------------------
    # random.Random.randint and .choice are slow; these draw from the same generator.
    def ri(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def sample(self, seq, k: int) -> list:
        """``k`` distinct items in random order (cheaper than random.sample for short lists)."""
        random = self.random
        return sorted(seq, key=lambda _: random())[:k]

    def forms_for(self, regime_id: str, kind: str) -> list[dict]:
        key = (regime_id, kind)
        if key not in self._forms:
            self._forms[key] = self.v.forms_for(regime_id, kind)
        return self._forms[key]

    def person(self) -> str:
        rng = self.rng
        surname = self.pick(DOUBLE_SURNAMES) if rng.random() < 0.05 else self.pick(SURNAMES)
        return surname + ("某某" if rng.random() < 0.4 else "某")

    def town(self) -> str:
        return self.pick(TOWN_HEADS) + self.pick(TOWN_TAILS) + self.pick(TOWN_SUFFIXES)

    def project(self, town: str) -> str:
        return town.removesuffix("街道").rstrip("镇乡") + self.pick(PROJECT_KINDS)

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.ri(0, (last - first).days))

    def published(self) -> tuple[date, str]:
        day = self.day_between(FIRST_DAY, LAST_DAY)
        clock = (self.ri(8, 18), self.pick((0, 0, 15, 30, 45))) if self.rng.random() < 0.5 else None
        return day, stamp(day, clock)

    def slots(self, region: dict, year: int, name: str, unit: str, topic: str) -> dict:
        """Names shared by the sentences of one record (counts come from ``fill``)."""
        town = self.town()
        return {"region": region["name"], "year": year, "month": self.ri(1, 12), "name": name, "unit": unit,
                "topic": topic, "place": town, "project": self.project(town)}

    def topics_for(self, first: str | None) -> list[dict]:
        chosen = []
        if first in self.topic_by_name:
            chosen.append(self.topic_by_name[first])
        for _ in range(self.ri(0, 2)):
            extra = self.pick(self.v.topics)
            if extra not in chosen:
                chosen.append(extra)
        return chosen

    def local_party_body(self, region: dict, fallback: dict) -> dict:
        """A 党委 or 纪委 of the record's region, to decide a case."""
        local = [o for o in self.orgs_by_region.get(str(region["id"]), []) if o["name"].startswith("中共")]
        return self.pick(local) if local else fallback

    def common_tail(self, lines: list[str], pub_day: date, key: str, tr: bool) -> None:
        """Optional updated / corrections / sources / formerly."""
        rng = self.rng
        if rng.random() < 0.12:
            fixed = pub_day + timedelta(days=self.ri(1, 60))
            note = self.pick(("更正文号", "更正发布日期", "补充处理依据", "更正数据", "更正错别字"))
            note = f"{note}，原文表述有误。"
            lines.append(f"updated: {fixed.isoformat()}")
            lines.append("corrections:")
            lines.append(f"  - {flow({'on': fixed, 'note': to_traditional(note) if tr else note})}")
        elif rng.random() < 0.08:
            lines.append(f"updated: {(pub_day + timedelta(days=self.ri(1, 90))).isoformat()}")
        if rng.random() < 0.3:
            host = self.pick(("jw.jiangzhong.example", "www.jiangzhong.example", "jw.yunling.example",
                               "www.yunling.example", "news.jiangnan.example"))
            title = self.pick(("纪委监委网站", "政府门户网站", "党务公开专栏", "新闻网"))
            url = f"https://{host}/{pub_day.year}/{pub_day.month:02d}/{key}.html"
            lines.append("sources:")
            lines.append(f"  - {flow({'title': to_traditional(title) if tr else title, 'url': url})}")
        if rng.random() < 0.05:
            lines.append(f"formerly: [{key.replace('syn-', 'syn-legacy-', 1)}]")

    def head(self, lines: list[str], rid: str, title: str, approver: str, pub_day: date, pub_text: str,
             region: dict, issuer: dict, topics: list[dict], tr: bool) -> None:
        rng, v = self.rng, self.v
        approved_on = pub_day - timedelta(days=self.ri(0, 6))
        lines.append(f"id: {rid}")
        lines.append(f"title: {q(title)}")
        lines.append("status: approved")
        lines.append(f"approval: {flow({'by': approver, 'on': approved_on})}")
        lines.append(f"published: {pub_text}")
        lines.append(f"region: {q(v.ref(rng, 'regions', region, tr))}")
        lines.append(f"issuer: {q(v.ref(rng, 'organizations', issuer, tr))}")
        if topics:
            lines.append("topics: [" + ", ".join(q(v.ref(rng, "topics", t, tr)) for t in topics) + "]")

    def fill(self, template: str, slots: dict) -> str:
        """Format a sentence; counts and amounts are drawn afresh for every sentence."""
        fields = self._fields.get(template)
        if fields is None:
            fields = self._fields[template] = tuple(
                name for _, name, _, _ in Formatter().parse(template) if name in _NUMBERS)
        if not fields:
            return template.format_map(slots)
        values = dict(slots)
        for name in fields:
            low, high = _NUMBERS[name]
            values[name] = self.ri(low, high)
        if "amount" in fields:
            values["amount"] = f"{values['amount']:,}"
        return template.format_map(values)

    def body(self, sections: list[tuple[str, list[str], list[str]]], growth: list[tuple[int, tuple[str, ...]]],
             slots: dict, low: int = 600, high: int = 1500) -> str:
        """Markdown from sections of (heading, paragraphs, list items).

        For each (section, pool) of ``growth`` in turn, sentences drawn without
        repetition from the pool are added to that section (two or three to a
        paragraph) until the body reaches a length drawn between ``low`` and
        ``high`` characters, or the pools run out.
        """
        target = self.ri(low, high)
        size = sum(len(h) + sum(map(len, ps)) + sum(map(len, items)) for h, ps, items in sections)
        added: dict[int, list[str]] = {}
        for number, pool in growth:
            if size >= target:
                break
            extra: list[str] = []
            for template in self.sample(pool, len(pool)):
                text = self.fill(template, slots)
                extra.append(text)
                size += len(text)
                if size >= target:
                    break
            while extra:
                take = self.ri(2, 3)
                added.setdefault(number, []).append("".join(extra[:take]))
                extra = extra[take:]
        out: list[str] = []
        for number, (heading, ps, items) in enumerate(sections):
            out.append(f"## {heading}")
            out.extend(ps)
            out.extend(added.get(number, ()))
            if items:
                out.append("\n".join(f"- {i}{'。' if k == len(items) - 1 else '；'}" for k, i in enumerate(items)))
        return "\n\n".join(out)

    # ---- kinds ----------------------------------------------------------
    def choose_regime(self, year: int) -> dict:
        """Among regimes in force by ``year``; bigger national rules far more often than small local ones."""
        v = self.v
        candidates = [r for r in v.regimes if int(r.get("year", 0)) <= year] or v.regimes
        weights = [max(1, len(r.get("circumstances") or [])) ** 2 for r in candidates]
        return self.rng.choices(candidates, weights)[0]

    def case(self, rid: str, tr: bool) -> tuple[int, str]:
        rng, v = self.rng, self.v
        pub_day, pub_text = self.published()
        issuer = self.pick(v.case_issuers)
        region = v.region_of(rng, issuer)
        regime = self.choose_regime(pub_day.year)
        regime_id = str(regime["id"])
        kind = "领导干部"
        if self.forms_for(regime_id, "党组织") and rng.random() < 0.15:
            kind = "党组织"
        allowed = self.forms_for(regime_id, kind)
        if not allowed:
            kind = "领导干部"
            allowed = self.forms_for(regime_id, kind)
        # At most one form from each group (a top-level form with the sanctions under it).
        groups: dict[str, list[dict]] = {}
        for f in allowed:
            groups.setdefault(str(f.get("parent") or f["id"]), []).append(f)
        picked = self.sample(list(groups), min(len(groups), 1 if rng.random() < 0.55 else 2))
        forms = [self.pick(groups[g]) for g in picked]
        circs = regime.get("circumstances") or []
        chosen_circs = self.sample(circs, min(len(circs), 1 if rng.random() < 0.7 else 2))

        scenario = self.pick(SCENARIOS)
        name = self.person()
        town = self.town()
        unit = f"{region['name']}{self.pick(UNITS)}"
        if kind == "党组织":
            subject_name, position, level, org_text = self.pick((
                (f"中共{unit}党组", "党组", "县处级", unit),
                (f"中共{region['name']}{town}委员会", "党委", "乡科级", f"{region['name']}{town}"),
                (f"中共{town}{self.pick(VILLAGES)}{self.pick(TOWN_TAILS)}村支部委员会", "村党支部", "村级",
                 f"{region['name']}{town}"),
            ))
            subject = {"name": subject_name, "position": position, "organization": org_text, "level": level}
            who = subject_name
        elif region.get("parent") and rng.random() < 0.3:
            post, level = self.pick(TOWN_POSTS)
            if town.endswith("街道"):
                post = post.replace("镇长", "主任").replace("党委", "党工委").replace("人大主席", "人大工委主任")
                org_text = f"{region['name']}{town}办事处"
            else:
                post = post.replace("镇长", "乡长") if town.endswith("乡") else post
                org_text = f"{region['name']}{town}人民政府"
            subject = {"name": name, "position": f"{town}{post}", "organization": org_text, "level": level}
            who = f"{region['name']}{town}原{post}{name}"
        else:
            post, level = self.pick(LEADER_POSTS)
            org_text = unit
            subject = {"name": name, "position": f"{unit}{post}", "organization": unit, "level": level}
            who = f"{unit}原{post}{name}"
        target = subject["name"]

        def is_sanction(f: dict) -> bool:
            parent = v.form_by_id.get(str(f.get("parent", "")))
            return "处分" in f["name"] or (parent is not None and "处分" in parent["name"])

        sanctions = [f["name"].removesuffix("处分") for f in forms if is_sanction(f)]
        measures = [f["name"] for f in forms if not is_sanction(f)]
        outcome = []
        if measures:
            outcome.append("被" + "、".join(measures))
        if sanctions:
            outcome.append("受到" + "、".join(sanctions) + "处分")
        title = f"{who}因{scenario[1]}" + ("并".join(outcome) if rng.random() < 0.85 else "被问责")

        def action(f: dict) -> str:
            n = f["name"]
            if is_sanction(f):
                return f"给予{target}{n.removesuffix('处分')}处分"
            if n.startswith("责令"):
                return f"责令{target}{n[2:]}"
            if n == "引咎辞职":
                return f"{target}引咎辞职"
            if n == "免职":
                return f"免去{target}现任职务"
            return f"对{target}予以{n}"

        # Dates backwards from publication, in the order 启动 ≤ 调查 ≤ 决定 ≤ 审查 ≤ 执行 < published.
        executed = pub_day - timedelta(days=self.ri(1, 20))
        reviewed = executed - timedelta(days=self.ri(2, 14))
        decided = reviewed - timedelta(days=self.ri(0, 14))
        investigated = decided - timedelta(days=self.ri(30, 150))
        started = investigated - timedelta(days=self.ri(1, 14))
        decider = self.local_party_body(region, issuer)["name"]
        stages = [("启动", started, issuer["name"]), ("调查", investigated, issuer["name"]), ("决定", decided, decider)]
        if rng.random() < 0.3:
            stages.append(("审查", reviewed, self.pick(v.case_issuers)["name"]))
        stages.append(("执行", executed, decider))
        abbr = "纪" if "纪委" in decider else "委"
        doc_no = f"{region['name'][:1]}{abbr}〔{decided.year}〕{self.ri(1, 180)}号"

        topics = self.topics_for(scenario[0])
        slots = self.slots(region, decided.year - self.ri(0, 2), name if kind != "党组织" else target,
                           org_text, scenario[0])
        facts = [self.fill(t, slots) for t in self.sample(scenario[2], len(scenario[2]))]
        circ_names = "”“".join(c["name"] for c in chosen_circs)
        regime_name = regime["name"]
        basis = f"依据《{regime_name}》，{target}的行为属于“{circ_names}”情形，应当予以问责。"
        sections = [
            ("基本情况", [f"经查，{who}在履职期间存在以下问题。" + facts[0], "".join(facts[1:3])], []),
            ("调查经过", [], []),
            ("调查认定", [basis], [f.rstrip("。") for f in facts[3:]]),
            ("处理结果", [f"经{decider}研究决定："], [action(f) for f in forms]),
            ("整改和警示", [], []),
        ]
        body = self.body(sections, [(1, PROCESS), (4, RECTIFY), (4, WARNINGS)], slots)
        summary = facts[0] + f"{target}负有责任，被依规问责。"

        T = to_traditional if tr else (lambda s: s)
        lines: list[str] = []
        self.head(lines, rid, T(title)[:200], T(issuer["name"]), pub_day, pub_text, region, issuer, topics, tr)
        lines.append(f"regime: {q(v.ref(rng, 'regimes', regime, tr))}")
        if kind != "领导干部" or rng.random() < 0.3:
            lines.append(f"subject_kind: {kind}")
        lines.append(f"subject: {flow({k: T(val) for k, val in subject.items()})}")
        lines.append("circumstances: [" + ", ".join(q(_named_ref(rng, c, circs, tr)) for c in chosen_circs) + "]")
        lines.append("forms: [" + ", ".join(q(_named_ref(rng, f, allowed, tr)) for f in forms) + "]")
        if any(f["name"] in ("开除党籍", "开除公职") for f in forms) and rng.random() < 0.7:
            lines.append("referred_for_prosecution: true")
        if v.initiators and rng.random() < 0.8:
            lines.append(f"initiated_by: {q(v.ref(rng, 'initiators', self.pick(v.initiators), tr))}")
        lines.append("stages:")
        for stage, on, by in stages:
            lines.append(f"  - {flow({'stage': stage, 'on': on, 'by': T(by)})}")
        lines.append(f"decision: {flow({'by': T(decider), 'on': decided, 'doc_no': T(doc_no)})}")
        if rng.random() < 0.1:
            result = self.pick(("经复查，维持原问责决定。", "经复查，部分事实认定有误，变更问责方式。"))
            lines.append(f"appeal: {flow({'filed': True, 'result': T(result)})}")
        if rng.random() < 0.5:
            lines.append("legal_basis:")
            lines.append(f"  - {q(T(f'《{regime_name}》'))}")
        lines.append(f"summary: {q(T(summary)[:300])}")
        self.common_tail(lines, pub_day, rid, tr)
        lines.append("body: " + block(T(body)))
        return pub_day.year, "\n".join(lines) + "\n"

    def disclosure(self, rid: str, tr: bool) -> tuple[int, str]:
        rng, v = self.rng, self.v
        pub_day, pub_text = self.published()
        year = pub_day.year
        domains = sorted({str(c["domain"]) for c in v.categories})
        domain = self.pick(domains)
        category = self.pick([c for c in v.categories if c["domain"] == domain])
        issuer = self.pick(v.party_issuers if domain == "党务公开" else v.gov_issuers)
        region = v.region_of(rng, issuer)
        topic = self.pick(v.topics)["name"] if v.topics else "政务公开"
        unit = issuer["name"].removeprefix("中共")
        slots = self.slots(region, year - self.ri(0, 1), self.person(), unit, topic)
        title = self.fill(self.pick(DISCLOSURE_TITLES.get(domain) or DISCLOSURE_TITLES["政务公开"]), slots)
        written = pub_day - timedelta(days=self.ri(0, 20))
        abbr = "委发" if domain == "党务公开" else self.pick(("政发", "政办发", "发", "函"))
        doc_no = f"{region['name'][:1]}{abbr}〔{written.year}〕{self.ri(1, 250)}号"
        opening = (f"为深入贯彻落实上级决策部署，进一步做好{topic}工作，结合{region['name']}实际，"
                   f"{issuer['name']}研究制定本文件。")
        sections = [
            ("总体要求", [opening], []),
            ("主要任务", [f"本文件属于“{category['name']}”类信息。重点做好以下工作："],
             self.sample(DISCLOSURE_ITEMS, self.ri(3, 5))),
            ("组织保障", [DISCLOSURE_PARAS[2]], []),
        ]
        body = self.body(sections, [(0, DISCLOSURE_PARAS[3:]), (2, DISCLOSURE_PARAS[:2])], slots)
        summary = f"{issuer['name']}发布《{title}》。" + self.fill(DISCLOSURE_PARAS[1], slots)

        T = to_traditional if tr else (lambda s: s)
        lines: list[str] = []
        self.head(lines, rid, T(title)[:200], T(issuer["name"]), pub_day, pub_text, region, issuer,
                  self.topics_for(topic), tr)
        lines.append(f"domain: {domain}")
        lines.append(f"category: {q(v.ref(rng, 'categories', category, tr))}")
        if domain == "政务公开" or rng.random() < 0.1:
            code = f"SYN{self.ri(100, 999)}-{self.ri(1, 9999):04d}/{year}-{self.ri(1, 99999):05d}"
            lines.append(f"index_no: {q(code)}")
        if rng.random() < 0.6:
            lines.append(f"doc_no: {q(T(doc_no))}")
        if rng.random() < 0.7:
            lines.append(f"written_on: {written.isoformat()}")
        roll = rng.random()
        if roll < 0.08:
            lines.append("validity: 已修订")
        elif roll < 0.15:
            lines.append("validity: 失效")
        elif roll < 0.3:
            lines.append("validity: 有效")
        if rng.random() < 0.1:
            lines.append("disclosure_mode: 依申请公开")
        lines.append(f"summary: {q(T(summary)[:300])}")
        self.common_tail(lines, pub_day, rid, tr)
        lines.append("body: " + block(T(body)))
        return year, "\n".join(lines) + "\n"

    def report(self, rid: str, tr: bool) -> tuple[int, str]:
        rng, v = self.rng, self.v
        pub_day, pub_text = self.published()
        issuer = self.pick(v.case_issuers)
        region = v.region_of(rng, issuer)
        name = self.person()
        unit = f"{region['name']}{self.pick(UNITS)}"
        post = self.pick(("局长", "党组书记、局长", "主任", "党组书记", "党委书记", "副局长"))
        kind = self.pick(("述职述廉", "述职述廉", "述责述廉", "四述"))
        report_year = pub_day.year - 1 if pub_day.month <= 4 else pub_day.year
        session_on = pub_day - timedelta(days=self.ri(2, 12))
        topic = self.pick(v.topics)["name"] if v.topics else "党风廉政建设"
        slots = self.slots(region, report_year, name, unit, topic)
        title = f"{unit}{post}{name}{report_year}年度{kind}报告"
        sections = [
            ("一、履行管党治党责任情况", [self.fill(REPORT_PARAS[0], slots)], []),
            ("二、推进重点工作情况", [self.fill(REPORT_PARAS[2], slots)], []),
            ("三、个人廉洁自律情况", [REPORT_PARAS[3]], []),
            ("四、存在的问题及整改措施", [self.fill(REPORT_PARAS[6], slots)], self.sample(REPORT_ISSUES, 3)),
        ]
        rest = tuple(p for i, p in enumerate(REPORT_PARAS) if i not in (0, 2, 3, 6))
        body = self.body(sections, [(0, rest[:4] + rest[10:16]), (1, rest[4:7] + rest[16:20]), (2, rest[20:]),
                                    (3, rest[7:10])], slots)
        participants = self.ri(25, 90)
        T = to_traditional if tr else (lambda s: s)
        evaluation: list[str] = [f"  method: {q(T(self.pick(EVAL_METHODS)))}", f"  participants: {participants}"]
        has_score, has_grades = self.pick(((True, True), (True, False), (False, True)))
        if has_score:
            evaluation.append(f"  score: {self.ri(600, 990) / 10}")
        if has_grades:
            remaining = participants - self.ri(0, 3)
            good = self.ri(remaining // 2, remaining)
            fair = self.ri(0, remaining - good)
            ok = self.ri(0, remaining - good - fair)
            bad = self.ri(0, min(2, remaining - good - fair - ok))
            evaluation.append(f"  grades: {{好: {good}, 较好: {fair}, 一般: {ok}, 差: {bad}}}")
        session_body = issuer["name"] + self.pick(("全会", "全委会", "常委会会议"))

        lines: list[str] = []
        self.head(lines, rid, T(title)[:200], T(issuer["name"]), pub_day, pub_text, region, issuer,
                  self.topics_for(topic), tr)
        lines.append(f"official: {flow({'name': T(name), 'position': T(unit + post), 'organization': T(unit)})}")
        lines.append(f"year: {report_year}")
        if kind != "述职述廉" or rng.random() < 0.5:
            lines.append(f"kind: {kind}")
        lines.append(f"session: {flow({'body': T(session_body), 'on': session_on})}")
        if rng.random() < 0.5:
            lines.append("questions:")
            for question, answer in self.sample(QUESTIONS, self.ri(1, 3)):
                lines.append(f"  - asked_by: {q(T(self.pick(ASKERS)))}")
                lines.append(f"    question: {q(T(self.fill(question, slots)))}")
                lines.append(f"    answer: {q(T(self.fill(answer, slots)))}")
        lines.append("evaluation:")
        lines.extend(evaluation)
        if rng.random() < 0.4:
            lines.append("follow_up:")
            for _ in range(self.ri(1, 2)):
                on = session_on + timedelta(days=self.ri(3, 40))
                action = self.pick(FOLLOW_UPS)
                lines.append(f"  - {flow({'action': T(action), 'on': on, 'note': T(f'针对测评中反映的问题进行{action}。')})}")
        summary = f"{name}报告了{report_year}年度履行全面从严治党责任、推进{topic}工作和个人廉洁自律情况。"
        lines.append(f"summary: {q(T(summary)[:300])}")
        self.common_tail(lines, pub_day, rid, tr)
        lines.append("body: " + block(T(body)))
        return pub_day.year, "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------

def generate(target: Path, count: int, seed: int = 1) -> None:
    """Write ``count`` valid records and the shipped vocabularies under ``target``."""
    target = Path(target)
    vocab = Vocab(VOCAB_DIR)
    rng = Random(seed)
    maker = Maker(vocab, rng)

    for folder in KIND_DIRS.values():
        base = target / folder
        if base.is_dir():
            for old in sorted(base.rglob("syn-*.yaml")):
                old.unlink()
    vocab_out = target / "vocab"
    vocab_out.mkdir(parents=True, exist_ok=True)
    for source in sorted(VOCAB_DIR.glob("*.yaml")):
        shutil.copyfile(source, vocab_out / source.name)

    made_dirs: set[Path] = set()
    for index in range(count):
        kind = KIND_CYCLE[index % len(KIND_CYCLE)]
        rid = f"syn-{kind}-{index:06d}"
        traditional = rng.random() < 0.1
        year, text = getattr(maker, kind)(rid, traditional)
        folder = target / KIND_DIRS[kind] / str(year)
        if folder not in made_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        (folder / f"{rid}.yaml").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gongkai.synthetic",
        description="生成确定性的合成记录（用于压力测试与搜索测试）。",
    )
    parser.add_argument("target", type=Path, help="输出目录")
    parser.add_argument("count", type=int, help="记录条数")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("记录条数不能为负数")
    generate(args.target, args.count, args.seed)
    print(f"已在 {args.target} 生成 {args.count} 条合成记录（seed={args.seed}）。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
