"""Request and response bodies of the matters API.

A matter version carries the implementation-list elements (实施清单要素, GB/T 39554.2)
that an applicant and a reviewer need. Every element added after the first release
has a default, so the original minimal body still publishes a matter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator
from stdnum.cn import uscc

MatterKind = Literal[
    "行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "公共服务", "其他行政权力"
]

# Type codes that open a GB/T 39554.1 basic code (事项类型 2 + 主项 5 + 子项 3 digits).
KIND_CODES: dict[str, str] = {
    "行政许可": "01",
    "行政给付": "05",
    "行政确认": "07",
    "行政奖励": "08",
    "行政裁决": "09",
    "其他行政权力": "10",
    "公共服务": "20",
}

MaterialForm = Literal["原件", "复印件", "电子"]
OnlineDepth = Literal["线下办理", "网上预审", "网上受理", "全程网办"]
ServiceObject = Literal["自然人", "法人", "自然人和法人"]

MATTER_CODE = r"^[0-9A-Z]{4,40}$"
BUNDLE_CODE = r"^[A-Z][A-Z0-9-]{1,39}$"
MATERIAL_CODE = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
LICENSE_TYPE = r"^[a-z][a-z0-9-]{1,63}$"
SITUATION_CODE = r"^[A-Z0-9][A-Z0-9-]{0,39}$"
QUESTION_ID = r"^[a-z][a-z0-9_]{1,39}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Material(Strict):
    """One material (申请材料); ``license_type`` names the e-license that replaces it (免提交)."""

    code: str = Field(pattern=MATERIAL_CODE, description="材料编码，跨事项相同的材料用同一编码")
    name: str = Field(min_length=2, max_length=200)
    form: MaterialForm = Field(description="材料形式")
    key: bool = Field(description="核心材料为 true；非核心材料可容缺受理")
    license_type: str | None = Field(
        default=None, pattern=LICENSE_TYPE, description="可替代该材料的电子证照类型（免提交）"
    )


class Fee(Strict):
    name: str = Field(min_length=2, max_length=200)
    amount_yuan: float = Field(ge=0, description="收费标准（元）")
    basis: str = Field(min_length=2, max_length=500, description="收费依据")


class Situation(Strict):
    """办事情形: a case of the matter that asks for extra materials."""

    code: str = Field(pattern=SITUATION_CODE)
    name: str = Field(min_length=2, max_length=200)
    materials: list[Material] = Field(default_factory=list, description="该情形另需的材料")


def unique_codes(items: list[Material] | list[Situation], what: str) -> None:
    codes = [item.code for item in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what} codes: {', '.join(duplicates)}")


class MatterFields(Strict):
    code: str = Field(pattern=MATTER_CODE, description="事项编码（GB/T 39554.1）")
    name: str = Field(min_length=2, max_length=200)
    kind: MatterKind
    department: str = Field(min_length=2, max_length=200, description="实施主体")
    promised_days: int = Field(ge=0, le=365, description="承诺办结时限（工作日）")
    # Elements of the implementation list; defaults keep the first API version valid.
    main_item_code: str | None = Field(default=None, pattern=MATTER_CODE, description="主项编码")
    main_item_name: str | None = Field(default=None, min_length=2, max_length=200)
    department_credit_code: str | None = Field(
        default=None, description="实施主体统一社会信用代码（GB 32100）"
    )
    service_object: ServiceObject | None = Field(default=None, description="服务对象")
    description: str = Field(default="", max_length=2000)
    keywords: list[str] = Field(default_factory=list, max_length=50, description="检索用同义词")
    legal_basis: list[str] = Field(default_factory=list, max_length=50, description="设定依据")
    conditions: list[str] = Field(default_factory=list, max_length=50, description="受理条件")
    materials: list[Material] = Field(default_factory=list, max_length=100)
    situations: list[Situation] = Field(default_factory=list, max_length=50)
    legal_days: int | None = Field(default=None, ge=0, le=365, description="法定办结时限（工作日）")
    fees: list[Fee] = Field(default_factory=list, description="收费项目；空为不收费")
    online_depth: OnlineDepth | None = Field(default=None, description="网办深度")
    visits: int | None = Field(default=None, ge=0, le=10, description="跑动次数")
    cross_province: bool = Field(default=False, description="是否跨省通办")
    commitment_allowed: bool = Field(default=False, description="是否可告知承诺")
    license_type: str | None = Field(
        default=None, pattern=LICENSE_TYPE, description="办结后签发的电子证照类型"
    )


class MatterCreate(MatterFields):
    """A new version as published; reads are not checked again, so rules may tighten
    without breaking versions published before."""

    @field_validator("department_credit_code")
    @classmethod
    def _valid_credit_code(cls, value: str | None) -> str | None:
        if value is not None and not uscc.is_valid(value):
            raise ValueError("not a valid unified social credit code (GB 32100 checksum)")
        return value

    @field_validator("keywords", "legal_basis", "conditions")
    @classmethod
    def _no_blank_lines(cls, values: list[str]) -> list[str]:
        if any(not v.strip() or len(v) > 500 for v in values):
            raise ValueError("entries must be non-blank and at most 500 characters")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> MatterCreate:
        if self.legal_days is not None and self.promised_days > self.legal_days:
            raise ValueError("promised_days may not exceed legal_days")
        # A 10-digit code is a GB/T 39554.1 basic code: its first two digits are the type.
        if len(self.code) == 10 and self.code.isdigit():
            if self.code[:2] != KIND_CODES[self.kind]:
                raise ValueError(
                    f"basic code {self.code} does not start with the type code "
                    f"{KIND_CODES[self.kind]} of {self.kind}"
                )
        unique_codes(self.materials, "material")
        unique_codes(self.situations, "situation")
        return self


class MatterRead(MatterFields):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    version: int
    published_at: datetime


# ---- bundles (一件事) ---------------------------------------------------------------------


class BundleMember(Strict):
    matter: str = Field(pattern=MATTER_CODE, description="成员事项编码")
    depends_on: list[str] = Field(
        default_factory=list, description="须先办结的成员事项（只能是排在前面的成员）"
    )


class FormField(Strict):
    """One field of the combined form (一表)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    label: str = Field(min_length=1, max_length=100)
    required: bool
    prefill: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z_]*\.[a-z][a-z0-9_]*$",
        description="预填来源，如 population.name（按 scenario 授权读取）",
    )


class FlowStep(Strict):
    """One step of the flow (一图), in order."""

    name: str = Field(min_length=2, max_length=100)
    description: str = Field(default="", max_length=1000)
    matters: list[str] = Field(default_factory=list, description="本步骤办理的成员事项")


class SituationRef(Strict):
    matter: str = Field(pattern=MATTER_CODE)
    situation: str = Field(pattern=SITUATION_CODE)


class GuideOption(Strict):
    value: bool | str = Field(description="回答值：是非题为 true/false，选择题为选项值")
    label: str = Field(min_length=1, max_length=100)
    include: list[str] = Field(default_factory=list, description="该回答加入的成员事项")
    exclude: list[str] = Field(default_factory=list, description="该回答去掉的成员事项")
    situations: list[SituationRef] = Field(default_factory=list, description="该回答适用的办事情形")
    questions: list[GuideQuestion] = Field(default_factory=list, description="该回答之后再问的问题")


class GuideQuestion(Strict):
    id: str = Field(pattern=QUESTION_ID)
    text: str = Field(min_length=2, max_length=200)
    kind: Literal["boolean", "choice"]
    options: list[GuideOption] = Field(min_length=2, max_length=20)


GuideOption.model_rebuild()


class Guide(Strict):
    """The situation tree (智能导办): ``base`` matters always apply; answers refine them."""

    base: list[str] = Field(default_factory=list, description="所有申请人都需办理的成员事项")
    questions: list[GuideQuestion] = Field(default_factory=list)


class BundleCreate(Strict):
    code: str = Field(pattern=BUNDLE_CODE, description="一件事编码")
    name: str = Field(min_length=2, max_length=200)
    department: str = Field(min_length=2, max_length=200, description="牵头部门")
    scenario: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,63}$", description="预填所用的场景，如 birth-registration"
    )
    description: str = Field(default="", max_length=2000)
    keywords: list[str] = Field(default_factory=list, max_length=100)
    members: list[BundleMember] = Field(min_length=1, max_length=50)
    form: list[FormField] = Field(default_factory=list, max_length=200, description="一表")
    flow: list[FlowStep] = Field(default_factory=list, max_length=50, description="一图")
    instructions: str = Field(default="", max_length=5000, description="一说明")
    guide: Guide = Field(default_factory=Guide)


class BundleMaterial(BaseModel):
    """One material of the bundle's material set (一套材料), shared by ``for_matters``."""

    code: str
    name: str
    form: MaterialForm
    key: bool
    license_type: str | None
    for_matters: list[str]


class BundleMemberRead(BundleMember):
    name: str
    version: int


class BundleRead(BundleCreate):
    model_config = ConfigDict(extra="ignore")

    version: int
    published_at: datetime
    members: list[BundleMemberRead]  # type: ignore[assignment]
    materials: list[BundleMaterial] = Field(description="一套材料：成员事项材料的并集（去重）")


# ---- smart guide (智能导办) ---------------------------------------------------------------


class GuideRequest(Strict):
    answers: dict[str, JsonValue] = Field(
        default_factory=dict,
        max_length=100,
        description="问题 id → 回答（是非题 true/false，选择题为选项值）",
    )


class GuideQuestionOption(BaseModel):
    value: bool | str
    label: str


class NextQuestion(BaseModel):
    id: str
    text: str
    kind: Literal["boolean", "choice"]
    options: list[GuideQuestionOption]


class GuideMatterMaterial(BaseModel):
    code: str
    name: str
    form: MaterialForm
    key: bool
    license_type: str | None


class GuideMatter(BaseModel):
    code: str
    version: int
    name: str
    department: str
    promised_days: int
    legal_days: int | None
    license_type: str | None
    commitment_allowed: bool
    depends_on: list[str] = Field(description="本次适用事项中须先办结的事项")
    materials: list[GuideMatterMaterial] = Field(description="该事项所需材料（含所选情形的材料）")


class GuideResult(BaseModel):
    bundle_code: str
    bundle_version: int
    complete: bool = Field(description="所有适用的问题都已回答")
    next_questions: list[NextQuestion] = Field(description="尚待回答的问题，按提问顺序")
    matters: list[GuideMatter] = Field(description="适用的成员事项，按办理顺序")
    materials: list[BundleMaterial] = Field(
        description="申请人需提交的一套材料（去重）；由本次前序事项签发的证照不再列出"
    )


# ---- search -------------------------------------------------------------------------------


class SearchHit(BaseModel):
    kind: Literal["bundle", "matter"]
    code: str
    version: int
    name: str
    department: str
    score: float


class SearchResult(BaseModel):
    query: str
    items: list[SearchHit]
