"""The record schema: the single source of truth for the three kinds of record.

These pydantic models are what validation checks against, what every other
module reads (typed, immutable objects), and where the JSON Schema with its
Chinese titles comes from (``jsonschema.py``). Vocabulary references are
resolved to entry ids while validating, when the vocabularies are passed as
validation context (``{"vocab": Vocabularies}``); the rules that relate one
field to another live in ``rules.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, Strict, ValidationInfo

from .fields import CHINA_TIME, Date, Flag, Integer, Markdown, Moment, SchemaModel, Slug, Text, WebUrl, text
from .vocabulary import SubjectKind, Vocabularies, VocabularyMiss

# --- vocabulary references -------------------------------------------------


def _vocab(info: ValidationInfo) -> Vocabularies | None:
    return (info.context or {}).get("vocab")


def vocab_ref(vocabulary: str) -> AfterValidator:
    """Resolve an id or exact name in ``vocabulary`` to the entry's id."""

    def resolve(value: str, info: ValidationInfo) -> str:
        vocab = _vocab(info)
        if vocab is None:
            return value
        try:
            return getattr(vocab, vocabulary).resolve(value).id
        except VocabularyMiss as miss:
            raise ValueError(str(miss)) from None

    return AfterValidator(resolve)


def _circumstance_of_regime(value: str, info: ValidationInfo) -> str:
    vocab, regime = _vocab(info), info.data.get("regime")
    if vocab is None or regime is None:
        return value
    try:
        return vocab.circumstances.resolve(value, vocab.regimes[regime].circumstances, f"问责规定「{vocab.regimes[regime].name}」").id
    except VocabularyMiss as miss:
        raise ValueError(str(miss)) from None


def _form_of_regime(value: str, info: ValidationInfo) -> str:
    vocab, regime = _vocab(info), info.data.get("regime")
    if vocab is None or regime is None:
        return value
    subject_kind = info.data.get("subject_kind", "领导干部")
    scope = f"问责规定「{vocab.regimes[regime].name}」下的{subject_kind}"
    try:
        return vocab.forms.resolve(value, vocab.forms_allowed(regime, subject_kind), scope).id
    except VocabularyMiss as miss:
        raise ValueError(str(miss)) from None


RegionRef = Annotated[str, Field(title="地区"), vocab_ref("regions")]
OrganizationRef = Annotated[str, vocab_ref("organizations")]
TopicRef = Annotated[str, vocab_ref("topics")]

# --- parts of records --------------------------------------------------------


class Approval(SchemaModel):
    by: Text = Field(title="审批机关", description="批准公开的机关或负责人")
    on: Date = Field(title="审批日期")


class Correction(SchemaModel):
    on: Date = Field(title="更正日期")
    note: Text = Field(title="更正说明")


class Withdrawal(SchemaModel):
    on: Date = Field(title="撤回日期")
    reason: Text = Field(title="撤回原因")


class Source(SchemaModel):
    title: Text = Field(title="来源名称")
    url: WebUrl = Field(title="网址", description="以 http:// 或 https:// 开头")


class Subject(SchemaModel):
    name: Text = Field(title="姓名或名称", description="可匿名化，如 张某；党组织写组织名称")
    position: Text | None = Field(None, title="职务")
    organization: Text | None = Field(None, title="所在单位")
    level: Text | None = Field(None, title="职级", description="如 县处级、乡科级")


Stage = Literal["启动", "调查", "决定", "审查", "执行"]
STAGE_ORDER: tuple[str, ...] = ("启动", "调查", "决定", "审查", "执行")


class CaseStage(SchemaModel):
    stage: Stage = Field(title="程序环节", description="启动、调查、决定、审查、执行")
    on: Date = Field(title="日期")
    by: Text = Field(title="承办机关")


class Decision(SchemaModel):
    by: Text = Field(title="决定机关")
    on: Date = Field(title="决定日期")
    doc_no: Text | None = Field(None, title="决定文号")


class Appeal(SchemaModel):
    filed: Flag = Field(title="是否申诉")
    result: Text | None = Field(None, title="申诉结果")


class Official(SchemaModel):
    name: Text = Field(title="姓名")
    position: Text = Field(title="职务")
    organization: Text | None = Field(None, title="单位")


class Session(SchemaModel):
    body: Text = Field(title="述职会议", description="如 市纪委全委会")
    on: Date = Field(title="会议日期")


class Question(SchemaModel):
    asked_by: Text = Field(title="询问人")
    question: Text = Field(title="询问内容")
    answer: Text | None = Field(None, title="回答")


Grade = Literal["好", "较好", "一般", "差"]


class Evaluation(SchemaModel):
    method: Text = Field(title="测评方式", description="如 民主测评、无记名投票")
    participants: Annotated[Integer, Field(ge=0)] = Field(title="参评人数")
    score: Annotated[float, Strict(), Field(ge=0, le=100)] | None = Field(None, title="得分", description="0–100")
    grades: dict[Grade, Annotated[Integer, Field(ge=0)]] | None = Field(None, title="测评等次票数", description="好、较好、一般、差 各得票数")


class FollowUp(SchemaModel):
    action: Text = Field(title="后续措施", description="如 提醒谈话、诫勉谈话、限期整改")
    on: Date = Field(title="日期")
    note: Text | None = Field(None, title="说明")


PersonalDataKind = Literal["身份证号码", "手机号码", "银行卡号", "个人电子邮箱"]
"""What the personal-data guard (``personal_data.py``) looks for in every text field."""


class PersonalDataNote(SchemaModel):
    kind: PersonalDataKind = Field(title="个人信息类型", description="身份证号码、手机号码、银行卡号 或 个人电子邮箱")
    reason: Text = Field(title="公开理由", description="为何必须公开，依据或批准情况")


# --- the three kinds ----------------------------------------------------------

Status = Literal["draft", "approved", "withdrawn"]


class Record(SchemaModel):
    """Fields common to every kind of record."""

    kind: ClassVar[str]
    """``disclosure``, ``case`` or ``report``: the folder the record lives in."""
    label: ClassVar[str]
    """The kind's Chinese name."""

    id: Slug = Field(title="编号", description="永久标识，全站唯一，不得重复使用；须与文件名一致")
    title: text(200) = Field(title="标题")
    status: Status = Field(title="状态", description="draft 草稿；approved 已批准（发布）；withdrawn 已撤回")
    approval: Approval | None = Field(None, title="审批", description="status 为 approved 或 withdrawn 时必填")
    published: Moment | None = Field(None, title="发布时间", description="日期或日期时间（默认北京时间）；晚于构建时间即为预约发布")
    updated: Moment | None = Field(None, title="更新时间", description="最近一次实质性修改，不得早于发布时间")
    region: RegionRef = Field(title="地区")
    issuer: OrganizationRef = Field(title="发布机构")
    topics: list[TopicRef] = Field(default_factory=list, title="主题")
    summary: text(300) | None = Field(None, title="摘要", description="纯文本，不超过 300 字；用于列表和订阅")
    body: Markdown | None = Field(None, title="正文", description="Markdown 格式")
    corrections: list[Correction] = Field(default_factory=list, title="更正说明")
    withdrawal: Withdrawal | None = Field(None, title="撤回", description="status 为 withdrawn 时必填")
    sources: list[Source] = Field(default_factory=list, title="来源")
    formerly: list[Slug] = Field(default_factory=list, title="曾用编号", description="旧网址将重定向到本记录")
    personal_data: list[PersonalDataNote] = Field(
        default_factory=list, title="个人信息说明",
        description="记录确需公开身份证号码、手机号码、银行卡号或个人电子邮箱时，逐类注明理由；未注明的类型一律报错",
    )

    @property
    def url_kind(self) -> str:
        """The plural used in URLs and folders: ``cases``, ``disclosures``, ``reports``."""
        return self.kind + "s"

    @property
    def has_body(self) -> bool:
        """Whether the record has a body (cheaper to keep at hand than the body: ``storedrecord``)."""
        return bool(self.body)

    @property
    def year_published(self) -> int | None:
        """The year it was published in China time (2024-12-31T23:00+08:00 is 2024's): the year facet."""
        if self.published is None:
            return None
        # By the timestamp: ``astimezone`` calls the record's pydantic tzinfo in Python (twice as slow).
        return datetime.fromtimestamp(self.published.timestamp(), CHINA_TIME).year

    @property
    def last_corrected(self) -> date | None:
        """The day of the newest correction, if any."""
        return max((correction.on for correction in self.corrections), default=None)

    @property
    def last_changed(self) -> datetime | None:
        """When the record last changed: its ``updated`` time, else ``published``."""
        return self.updated or self.published


class Disclosure(Record):
    kind: ClassVar[str] = "disclosure"
    label: ClassVar[str] = "党务政务公开"

    domain: Literal["党务公开", "政务公开"] = Field(title="公开领域")
    category: Annotated[str, vocab_ref("categories")] = Field(title="公开类别")
    index_no: Text | None = Field(None, title="索引号", description="政务公开必填")
    doc_no: Text | None = Field(None, title="文号", description="如 江委发〔2024〕12号")
    written_on: Date | None = Field(None, title="成文日期", description="不得晚于发布时间")
    validity: Literal["有效", "已修订", "失效"] = Field("有效", title="有效性")
    disclosure_mode: Literal["主动公开", "依申请公开", "不予公开"] = Field(
        "主动公开", title="公开方式", description="不予公开 的信息不得录入本站"
    )


class Case(Record):
    kind: ClassVar[str] = "case"
    label: ClassVar[str] = "问责案例"

    # regime and subject_kind come before circumstances and forms: those are
    # resolved against them.
    regime: Annotated[str, vocab_ref("regimes")] = Field(title="问责依据", description="依据的问责规定")
    subject_kind: SubjectKind = Field("领导干部", title="问责对象类型")
    subject: Subject = Field(title="被问责对象")
    circumstances: list[Annotated[str, AfterValidator(_circumstance_of_regime)]] = Field(
        min_length=1, title="问责情形", description="须属于所依据的问责规定"
    )
    forms: list[Annotated[str, AfterValidator(_form_of_regime)]] = Field(
        min_length=1, title="问责方式", description="须适用于该问责规定和问责对象类型；可写具体处分，如 留党察看二年"
    )
    referred_for_prosecution: Flag = Field(False, title="移送审查起诉", description="涉嫌犯罪，移送检察机关依法审查起诉")
    initiated_by: Annotated[str, vocab_ref("initiators")] | None = Field(None, title="问责启动主体")
    stages: list[CaseStage] = Field(min_length=1, title="问责程序", description="须包含 决定 和 执行，日期按 启动、调查、决定、审查、执行 顺序不倒退")
    decision: Decision = Field(title="问责决定")
    appeal: Appeal | None = Field(None, title="申诉")
    legal_basis: list[Text] = Field(default_factory=list, title="依据条款")


class Report(Record):
    kind: ClassVar[str] = "report"
    label: ClassVar[str] = "述职述廉"

    official: Official = Field(title="述职人")
    year: Integer = Field(title="述职年度", description="不得晚于发布年份")
    report_kind: Literal["述职述廉", "述责述廉", "四述"] = Field("述职述廉", alias="kind", title="述职类型")
    session: Session = Field(title="述职会议")
    questions: list[Question] = Field(default_factory=list, title="询问质询")
    evaluation: Evaluation = Field(title="评议测评", description="至少填写 score 或 grades 之一；各等次票数之和不得超过参评人数")
    follow_up: list[FollowUp] = Field(default_factory=list, title="后续措施")


RECORD_TYPES: dict[str, type[Record]] = {cls.kind: cls for cls in (Disclosure, Case, Report)}
"""Each kind by name; its folder under ``data/`` is the plural (``cases``)."""

KIND_OF_FOLDER: dict[str, str] = {cls.kind + "s": cls.kind for cls in (Disclosure, Case, Report)}


def build_models() -> None:
    """Build the record models' validators and serializers now (``fields.SchemaModel`` defers them to first
    use), before forking processes that use them: each would build its own (57 ms)."""
    for model in RECORD_TYPES.values():
        model.model_rebuild()


def validate_record(kind: str, data: Any, vocab: Vocabularies | None) -> Record:
    """Validate ``data`` as a record of ``kind``; raises ``pydantic.ValidationError``."""
    return RECORD_TYPES[kind].model_validate(data, context={"vocab": vocab}, by_alias=True)
