"""What ``notebooks/explore.ipynb`` calls: load an assessment again and look at it from every side.

The notebook stays a page of short explanations; the work is here, so it is tested like the rest of the library.
``load`` re-runs the assessment from an output folder's ``summary.json`` (its parameters name the inputs) or from a
snapshot folder, which takes seconds even for a large tenant; everything else takes the ``Assessment`` it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from hybridx_nb.app import assess
from hybridx_nb.app.paths import resolve_paths
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.vocabulary import ACTION_ORDER, LABELS, NO_ACTION
from hybridx_nb.engine import anchor_forms
from hybridx_nb.report.categories import COLORS

_PEOPLE_AD = ("upn", "mail", "display_name", "sam_account_name")
_PEOPLE_CLOUD = ("upn", "mail", "display_name")


def load(assessment: str | Path | None = None, snapshot: str | Path | None = None) -> assess.Assessment:
    """The assessment of an output folder (``hybridx assess``/``demo``/``batch``) or of a snapshot folder."""
    if bool(assessment) == bool(snapshot):
        raise HybridxError("give either assessment (an output folder) or snapshot (a snapshot folder)")
    if snapshot:
        raw: dict[str, Any] = resolve_paths({"snapshot": str(snapshot)})
        raw["client"] = Path(raw["snapshot"]).name
    else:
        folder = Path(resolve_paths({"out": str(assessment)})["out"])
        summary = folder / "summary.json"
        if not summary.is_file():
            raise HybridxError(f"{folder} has no summary.json: give the output folder of hybridx assess or demo")
        known = {f.name for f in fields(assess.Params)}
        raw = {k: v for k, v in json.loads(summary.read_text(encoding="utf-8")).get("parameters", {}).items()
               if k in known and k not in ("redact", "redact_key")}
        raw["out"] = str(folder)
    return assess.run(assess.validate_params(raw))


def by_category(a: assess.Assessment) -> pd.DataFrame:
    """Identities per category in the report's order, with its label and whether it needs action."""
    return pd.DataFrame([{"category": c, "label": LABELS[c], "identities": a.counts.get(c, 0),
                          "needs action": c not in NO_ACTION} for c in ACTION_ORDER]).set_index("category")


def anchor_kinds(a: assess.Assessment) -> pd.DataFrame:
    """What the cloud users' ImmutableIDs are (Okta id, big-endian GUID, email, …) per category."""
    f = a.findings
    kinds = f[f["anchor_kind"].notna()] if "anchor_kind" in f else f.iloc[0:0]
    return (kinds.groupby(["anchor_kind", "category"], observed=True).size().unstack(fill_value=0)
            .reindex(columns=[c for c in ACTION_ORDER if c in set(kinds["category"])]))


def domain_of(values: pd.Series) -> pd.Series:
    """The domain part of each UPN or address, lower case."""
    return values.astype("str").str.rpartition("@")[2].str.lower().where(values.notna())


def top_domains(a: assess.Assessment, n: int = 10) -> pd.DataFrame:
    """The ``n`` UPN domains with the most identities, AD and cloud side, and how many need action."""
    f = a.findings
    domain = domain_of(f["ad_upn"].fillna(f["entra_upn"]))
    needs = ~f["category"].isin(NO_ACTION)
    table = pd.DataFrame({"domain": domain, "needs action": needs}).groupby("domain").agg(
        identities=("needs action", "size"), **{"need action": ("needs action", "sum")})
    return table.sort_values("identities", ascending=False).head(n)


def ou_of(dns: pd.Series) -> pd.Series:
    """The parent container of each DN (``OU=Sales,OU=Staff,DC=…`` → ``Sales``), or the cloud side's placeholder."""
    parent = dns.astype("str").str.extract(r"^(?:\\.|[^,])*,\s*(?:OU|CN)=((?:\\.|[^,])*)", expand=False)
    return parent.where(dns.notna(), "(cloud only)").fillna("(domain root)")


def categories_per(a: assess.Assessment, by: str = "ou", top: int = 12) -> pd.DataFrame:
    """Identities per category for each OU (``by="ou"``) or UPN domain (``by="domain"``), biggest first."""
    f = a.findings
    if by == "ou":
        key = ou_of(f["ad_dn"])
    elif by == "domain":
        key = domain_of(f["ad_upn"].fillna(f["entra_upn"])).fillna("(no UPN)")
    else:
        raise HybridxError(f"by must be 'ou' or 'domain', not {by!r}")
    table = pd.crosstab(key.rename(by), f["category"])
    table = table.reindex(columns=[c for c in ACTION_ORDER if c in table.columns])
    return table.loc[table.sum(axis=1).sort_values(ascending=False).index[:top]]


def chart(a: assess.Assessment, by: str = "ou", top: int = 12):
    """A stacked bar chart of the categories per OU or domain (matplotlib figure), actions first."""
    import matplotlib.pyplot as plt

    table = categories_per(a, by, top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(table) + 1.4))
    left = pd.Series(0, index=table.index)
    for cat in table.columns:
        ax.barh(table.index, table[cat], left=left, color=COLORS[cat], label=LABELS[cat])
        left += table[cat]
    ax.set_xlabel("identities")
    ax.set_title(f"Categories per {'OU' if by == 'ou' else 'UPN domain'}")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


@dataclass
class Story:
    """Everything hybridx knows about one person, side by side."""

    who: str
    ad: pd.DataFrame
    cloud: pd.DataFrame
    okta: pd.DataFrame
    okta_app: pd.DataFrame
    anchors: pd.DataFrame
    findings: pd.DataFrame
    plan: pd.DataFrame
    readiness: pd.DataFrame
    parts: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parts = {"AD user": self.ad, "Cloud user": self.cloud, "Okta user": self.okta,
                      "Okta Office 365 app user": self.okta_app, "Every form of the anchors": self.anchors,
                      "Finding": self.findings, "Plan": self.plan, "Directory readiness": self.readiness}

    def _repr_html_(self) -> str:
        from hybridx_nb.report.html import esc

        out = [f"<h3>{esc(self.who)}</h3>"]
        for title, frame in self.parts.items():
            out.append(f"<h4>{esc(title)} ({len(frame)})</h4>")
            out.append(frame.T.to_html(na_rep="") if len(frame) else "<p><i>none</i></p>")
        return "".join(out)


def _matches(frame: pd.DataFrame, columns: tuple[str, ...], needle: str) -> pd.Series:
    hit = pd.Series(False, index=frame.index)
    for col in columns:
        if col in frame.columns:
            hit |= frame[col].astype("str").str.casefold().eq(needle).fillna(False)
    return hit


def story(a: assess.Assessment, who: str) -> Story:
    """One person's whole story, found by UPN, mail address, display name or sAMAccountName (any case): the AD
    and cloud rows, the Okta rows, every form of each anchor, the finding, the plan rows and readiness rows."""
    needle = who.strip().casefold()
    snap, f = a.snapshot, a.findings
    ad, cloud = snap["ad_users"], snap["entra_users"]
    ad_rows = ad[_matches(ad, _PEOPLE_AD, needle)]
    cloud_rows = cloud[_matches(cloud, _PEOPLE_CLOUD, needle)]
    found = f[f["ad_dn"].isin(ad_rows["dn"]) | f["entra_id"].isin(cloud_rows["id"])
              | _matches(f, ("ad_upn", "entra_upn", "ad_display_name", "entra_display_name", "ad_sam"), needle)]
    # the finding joins the other side: an AD user's cloud twin and the other way round
    ad_rows = ad[ad["dn"].isin(found["ad_dn"].dropna()) | ad.index.isin(ad_rows.index)]
    cloud_rows = cloud[cloud["id"].isin(found["entra_id"].dropna()) | cloud.index.isin(cloud_rows.index)]
    upns = set(cloud_rows["upn"].dropna().str.casefold()) | set(ad_rows["upn"].dropna().str.casefold())
    okta, apps = snap["okta_users"], snap["okta_app_users"]
    okta_rows = okta[okta["login"].astype("str").str.casefold().isin(upns)
                     | okta["email"].astype("str").str.casefold().isin(upns)]
    app_rows = apps[apps["external_id"].isin(cloud_rows["id"]) | apps["user_id"].isin(okta_rows["id"])
                    | apps["user_name"].astype("str").str.casefold().isin(upns)]
    values = [("AD objectGUID", v) for v in ad_rows["object_guid"].dropna()]
    values += [("AD mS-DS-ConsistencyGuid", v) for v in ad_rows.get("consistency_guid", pd.Series()).dropna()]
    values += [("cloud ImmutableID", v) for v in cloud_rows["immutable_id"].dropna()]
    values += [("Okta app immutableId", v) for v in app_rows["immutable_id"].dropna()]
    anchors = pd.DataFrame([{"where": where, **vars(anchor_forms.describe(str(v)))} for where, v in values])
    actions = a.plan.actions
    plan = actions[actions["entra_id"].isin(found["entra_id"].dropna()) | actions["ad_dn"].isin(found["ad_dn"].dropna())]
    readiness = a.readiness[a.readiness["DISTINGUISHEDNAME"].isin(ad_rows["dn"])]
    if not len(found) and not len(ad_rows) and not len(cloud_rows):
        raise HybridxError(f"nobody called {who!r}: give a UPN, mail address, display name or sAMAccountName")
    return Story(who, ad_rows, cloud_rows, okta_rows, app_rows, anchors, found, plan, readiness)


def example_person(a: assess.Assessment) -> str:
    """A person worth looking at: the first one who would be duplicated (else the first finding needing action)."""
    f = a.findings
    for cat in ACTION_ORDER:
        rows = f[f["category"] == cat]
        upn = rows["ad_upn"].fillna(rows["entra_upn"]).dropna()
        if len(upn):
            return str(upn.iloc[0])
    raise HybridxError("the assessment has no findings")
