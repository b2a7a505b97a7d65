"""Synthetic seed data for the population and legal-person libraries (人口库, 法人库).

Everything here is made up: a fixed random seed draws a few hundred people in
households of 杭州市 and a few dozen enterprises, with valid GB 11643 ID numbers
(real area codes, the birth date, the check digit) and valid GB 32100 credit codes
(the organisation code's GB 11714 check digit and the code's check character). Any
likeness to a real person or enterprise is chance. The records are shaped as the
county contracts (``gov.county.population.record.v1``,
``gov.county.legal_person.record.v1``) from the source ``330100-seed``, version 1.

Demo identities (synthetic):

出生一件事 (birth registration) — two married parents sharing household 户号
330106800001 at 浙江省杭州市西湖区文三路90号3幢2单元501室, with the father's mother:

- father  陈志远  男  汉族  1991-03-14  ID 330106199103140315
- mother  林晓雯  女  汉族  1993-07-22  ID 330102199307220485
- grandmother  刘秀英  女  汉族  1965-09-02  ID 330122196509020221

企业开办 (company opening) — the founder and the enterprise he has just registered:

- founder  王建国  男  汉族  1992-11-08  ID 330105199211080579, 户号 330105800002
- enterprise  杭州云栖数智科技有限公司  USCC 9133010674812306X1, 有限责任公司, established
  2025-12-18, legal representative 王建国

Write the files: ``python -m yiwang_standalone.seed_libraries --out <dir>``
(``population.json``, ``legal_persons.json``). Load them as a county system pushes its
records, through data-exchange's county push API (``push``: a client and its
credentials; ``push_through_gateway``: the gateway's app or URL and the county API key).
Loading is idempotent: a second push finds every record unchanged.

Not part of any service image: ``make run`` (standalone) and ``make up``
(tools/distributed.py) push it once the platform is up.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from stdnum.cn import ric, uscc

log = logging.getLogger(__name__)

SOURCE = "330100-seed"
RANDOM_SEED = 20260101
# Ages are counted from this day, not today, so the output never changes.
AS_OF = date(2026, 1, 1)

FATHER_ID = "330106199103140315"
MOTHER_ID = "330102199307220485"
GRANDMOTHER_ID = "330122196509020221"
DEMO_HOUSEHOLD = "330106800001"
DEMO_ADDRESS = "浙江省杭州市西湖区文三路90号3幢2单元501室"
FOUNDER_ID = "330105199211080579"
FOUNDER_HOUSEHOLD = "330105800002"
ENTERPRISE_USCC = "9133010674812306X1"

HOUSEHOLDS = 130
ENTERPRISES = 60

# Districts of 杭州市: division code, name, streets.
DISTRICTS = [
    ("330102", "上城区", ["解放路", "庆春路", "望江路", "秋涛路"]),
    ("330105", "拱墅区", ["莫干山路", "湖墅南路", "上塘路", "大关路"]),
    ("330106", "西湖区", ["文三路", "天目山路", "古墩路", "西溪路"]),
    ("330108", "滨江区", ["江南大道", "滨盛路", "长河路", "江汉路"]),
    ("330110", "余杭区", ["文一西路", "临平大道", "良睦路", "五常大道"]),
]
# Birth places (area codes); the first valid one for the birth year is used.
BIRTH_AREAS = [
    "330102",
    "330105",
    "330106",
    "330122",
    "330302",
    "330402",
    "330602",
    "110101",
    "310101",
    "320102",
    "340102",
    "360102",
    "410102",
    "420102",
    "430102",
    "510104",
]
FAMILY_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣建志文国"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧莉琳颖倩洁琴云莹晶悦瑶佳晓雯萍红梅"
ETHNICITIES = ["汉族"] * 46 + ["回族", "满族", "畲族", "苗族"]
INDUSTRIES = [
    ("科技", "技术开发、技术咨询、技术服务；软件开发；信息系统集成服务"),
    ("贸易", "日用百货、服装鞋帽、五金交电的批发与零售；货物进出口"),
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售"),
    ("文化传媒", "文化艺术交流活动策划；广告设计、制作、代理、发布"),
    ("建筑工程", "建设工程施工；建筑装饰工程；市政设施管理"),
    ("物流", "普通货物道路运输；仓储服务；国内货物运输代理"),
]
TRADE_NAMES = (
    "云栖 西溪 钱塘 之江 运河 湖畔 东方 恒信 博远 嘉禾 鼎盛 新拓 融智 锦程 华睿 天目".split()
)
ENTITY_TYPES = ["有限责任公司"] * 6 + ["股份有限公司", "个人独资企业", "合伙企业"]
STATUSES = ["存续"] * 16 + ["在业", "注销", "吊销", "迁出"]


@dataclass(frozen=True)
class Seed:
    population: list[dict[str, Any]]
    legal_persons: list[dict[str, Any]]


def id_number(area: str, birth: date, *, sequence: int) -> str:
    """A GB 11643 number: area, birth date, 3-digit sequence (odd: male), check digit."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def organisation_code(body: str) -> str:
    """An 8-digit organisation code body with its GB 11714 check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(area: str, organisation: str) -> str:
    """A GB 32100 code of an enterprise registered with market regulation (91)."""
    body = f"91{area}{organisation_code(organisation)}"
    return body + uscc.calc_check_digit(body + "0")


def _person(
    number: str,
    name: str,
    *,
    sex: str,
    ethnicity: str,
    birth: date,
    address: str,
    household: str,
    marital: str,
    spouse: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": SOURCE,
        "source_version": 1,
        "id_number": number,
        "name": name,
        "sex": sex,
        "ethnicity": ethnicity,
        "birth_date": birth.isoformat(),
        "household_address": address,
        "marital_status": marital,
        "household_number": household,
    }
    if spouse:
        record["spouse_id_number"] = spouse
    return record


# The demo people: ID number, name, sex, birth date, address, household, marital status
# and spouse (all 汉族).
_DEMO_PEOPLE = (
    (FATHER_ID, "陈志远", "男", date(1991, 3, 14), DEMO_ADDRESS, DEMO_HOUSEHOLD, "已婚", MOTHER_ID),
    (MOTHER_ID, "林晓雯", "女", date(1993, 7, 22), DEMO_ADDRESS, DEMO_HOUSEHOLD, "已婚", FATHER_ID),
    (GRANDMOTHER_ID, "刘秀英", "女", date(1965, 9, 2), DEMO_ADDRESS, DEMO_HOUSEHOLD, "丧偶", None),
    (
        FOUNDER_ID,
        "王建国",
        "男",
        date(1992, 11, 8),
        "浙江省杭州市拱墅区莫干山路188号1幢1单元1202室",
        FOUNDER_HOUSEHOLD,
        "未婚",
        None,
    ),
)


def _demo_people() -> list[dict[str, Any]]:
    return [
        _person(
            number,
            name,
            sex=sex,
            ethnicity="汉族",
            birth=birth,
            address=address,
            household=household,
            marital=marital,
            spouse=spouse,
        )
        for number, name, sex, birth, address, household, marital, spouse in _DEMO_PEOPLE
    ]


class _People:
    """Draws people with unique, valid ID numbers."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken

    def number(self, birth: date, male: bool) -> str:
        areas = self.rng.sample(BIRTH_AREAS, len(BIRTH_AREAS))
        while True:
            for area in areas:
                sequence = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
                number = id_number(area, birth, sequence=sequence)
                if ric.is_valid(number) and number not in self.taken:
                    self.taken.add(number)
                    return number

    def name(self, male: bool, family: str | None = None) -> str:
        chars = MALE_CHARS if male else FEMALE_CHARS
        given = "".join(self.rng.choice(chars) for _ in range(self.rng.choice((1, 2, 2))))
        return (family or self.rng.choice(FAMILY_NAMES)) + given

    def birth(self, oldest: int, youngest: int) -> date:
        start = date(AS_OF.year - oldest, 1, 1)
        end = date(AS_OF.year - youngest, 12, 31)
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))


def _households(rng: random.Random) -> Iterator[dict[str, Any]]:
    people = _People(rng, {FATHER_ID, MOTHER_ID, GRANDMOTHER_ID, FOUNDER_ID})
    for n in range(HOUSEHOLDS):
        code, district, streets = DISTRICTS[n % len(DISTRICTS)]
        household = f"{code}{n + 101:06d}"
        address = (
            f"浙江省杭州市{district}{rng.choice(streets)}{rng.randrange(1, 400)}号"
            f"{rng.randrange(1, 20)}幢{rng.randrange(1, 4)}单元{rng.randrange(1, 30)}0{rng.randrange(1, 4)}室"
        )
        family = rng.choice(FAMILY_NAMES)
        ethnicity = rng.choice(ETHNICITIES)
        head_male = rng.random() < 0.5
        head_birth = people.birth(75, 24)
        head = people.number(head_birth, head_male)
        partner: str | None = None
        if rng.random() < 0.7:  # a married couple, maybe with children
            partner_birth = min(head_birth + timedelta(days=rng.randrange(-1500, 1500)), AS_OF)
            partner_birth = max(partner_birth, date(1950, 1, 1))
            partner = people.number(partner_birth, not head_male)
            marital = "已婚"
        else:  # one person on their own
            marital = "未婚" if head_birth.year > 1985 else rng.choice(("未婚", "离婚", "丧偶"))
        # Who lives here, in order: ID number, name, male, ethnicity, birth date, marital
        # status, spouse.
        members = [
            (
                head,
                people.name(head_male, family),
                head_male,
                ethnicity,
                head_birth,
                marital,
                partner,
            )
        ]
        if partner is not None:
            partner_name = people.name(not head_male)
            partner_ethnicity = rng.choice(ETHNICITIES)
            members.append(
                (
                    partner,
                    partner_name,
                    not head_male,
                    partner_ethnicity,
                    partner_birth,
                    "已婚",
                    head,
                )
            )
            younger = max(head_birth, partner_birth)
            for _ in range(rng.choice((0, 1, 1, 2))):
                child_birth = younger + timedelta(days=rng.randrange(22 * 365, 36 * 365))
                if child_birth >= AS_OF:
                    continue
                male = rng.random() < 0.5
                child = people.number(child_birth, male)
                members.append(
                    (child, people.name(male, family), male, ethnicity, child_birth, "未婚", None)
                )
        for number, name, male, member_ethnicity, birth, status, spouse in members:
            yield _person(
                number,
                name,
                sex="男" if male else "女",
                ethnicity=member_ethnicity,
                birth=birth,
                address=address,
                household=household,
                marital=status,
                spouse=spouse,
            )


def _enterprise(
    code: str,
    name: str,
    *,
    entity_type: str,
    representative: dict[str, Any],
    address: str,
    scope: str,
    established: date,
    status: str,
) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "source_version": 1,
        "uscc": code,
        "name": name,
        "entity_type": entity_type,
        "legal_representative_name": representative["name"],
        "legal_representative_id_number": representative["id_number"],
        "registered_address": address,
        "business_scope": scope,
        "established_on": established.isoformat(),
        "status": status,
    }


def _enterprises(rng: random.Random, people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    founder = next(p for p in people if p["id_number"] == FOUNDER_ID)
    result = [
        _enterprise(
            ENTERPRISE_USCC,
            "杭州云栖数智科技有限公司",
            entity_type="有限责任公司",
            representative=founder,
            address="浙江省杭州市西湖区西溪路525号A幢3楼301室",
            scope=INDUSTRIES[0][1],
            established=date(2025, 12, 18),
            status="存续",
        )
    ]
    adults = [p for p in people if p["birth_date"] < "2000-01-01" and p is not founder]
    codes = {ENTERPRISE_USCC}
    names = {result[0]["name"]}
    while len(result) < ENTERPRISES:
        code, district, streets = rng.choice(DISTRICTS)
        number = credit_code(code, f"{rng.randrange(10**7, 10**8)}")
        industry, scope = rng.choice(INDUSTRIES)
        name = f"杭州{rng.choice(TRADE_NAMES)}{rng.choice(TRADE_NAMES)}{industry}有限公司"
        if number in codes or name in names:
            continue
        codes.add(number)
        names.add(name)
        result.append(
            _enterprise(
                number,
                name,
                entity_type=rng.choice(ENTITY_TYPES),
                representative=rng.choice(adults),
                address=f"浙江省杭州市{district}{rng.choice(streets)}{rng.randrange(1, 900)}号",
                scope=scope,
                established=date(2000, 1, 1) + timedelta(days=rng.randrange(9000)),
                status=rng.choice(STATUSES),
            )
        )
    return result


def generate() -> Seed:
    """The seed records; the same on every call."""
    rng = random.Random(RANDOM_SEED)  # noqa: S311 - synthetic data, repeatable on purpose
    people = _demo_people() + list(_households(rng))
    return Seed(population=people, legal_persons=_enterprises(rng, people))


def write(seed: Seed, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in (("population", seed.population), ("legal_persons", seed.legal_persons)):
        path = out / f"{name}.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        written.append(path)
    return written


# The county push API of data-exchange, and how many records go in one batch (it takes 500).
POPULATION_RECORDS = "/api/v1/data-exchange/population/records"
LEGAL_PERSON_RECORDS = "/api/v1/data-exchange/legal-persons/records"
BATCH = 200
# The gateway's scenario for county systems pushing into the libraries.
COUNTY_PUSH = "county-record-push"
_SUMMARY_KEYS = ("accepted", "unchanged", "stale", "rejected")


async def push(
    api: httpx.AsyncClient, *, headers: Mapping[str, str], seed: Seed | None = None
) -> dict[str, dict[str, int]]:
    """Push the seed in batches as a county system does; the summary per library. A
    second push finds every record unchanged. Each write is logged and announced as any
    county record is. Raises RuntimeError when a batch is refused or a record rejected."""
    seed = seed or generate()
    done = {
        "population": await _push_all(
            api, POPULATION_RECORDS, records=seed.population, headers=headers
        ),
        "legal_person": await _push_all(
            api, LEGAL_PERSON_RECORDS, records=seed.legal_persons, headers=headers
        ),
    }
    log.info("seed libraries loaded: %s", done)
    return done


async def _push_all(
    api: httpx.AsyncClient,
    path: str,
    *,
    records: list[dict[str, Any]],
    headers: Mapping[str, str],
) -> dict[str, int]:
    total = dict.fromkeys(_SUMMARY_KEYS, 0)
    for start in range(0, len(records), BATCH):
        answer = await api.post(
            path, json={"records": records[start : start + BATCH]}, headers=dict(headers)
        )
        if answer.status_code != 200:
            raise RuntimeError(f"seed push to {path}: {answer.status_code} {answer.text}")
        summary = answer.json()["summary"]
        if summary["rejected"]:
            raise RuntimeError(f"seed push to {path}: records rejected: {answer.text}")
        for key in _SUMMARY_KEYS:
            total[key] += summary[key]
    return total


async def push_through_gateway(gateway: Any, county_api_key: str) -> dict[str, dict[str, int]]:
    """Push the seed through the gateway, as the county system of the development keys:
    ``gateway`` is its ASGI app (standalone, in-process) or its base URL."""
    transport = None if isinstance(gateway, str) else httpx.ASGITransport(app=gateway)
    base_url = gateway if isinstance(gateway, str) else "http://yiwang"
    headers = {"X-Api-Key": county_api_key, "X-Scenario": COUNTY_PUSH}
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=120) as api:
        return await push(api, headers=headers)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yiwang_standalone.seed_libraries", description=__doc__
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON files")
    args = parser.parse_args(argv)
    seed = generate()
    for path in write(seed, args.out):
        print(path)
    print(f"{len(seed.population)} people, {len(seed.legal_persons)} enterprises")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
