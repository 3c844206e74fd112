"""The plugin API: everything of the core that a plugin may import, and nothing else.

A plugin (a methodology version, a collection channel, a quality rule, a job) imports from
this module only, plus its own package and third-party libraries::

    from cci.plugin_api import Channel
    from cci.plugin_api import hookimpl

This is the stable surface: the core's modules behind it may move or change, the names here
keep their meaning, and a name leaves only with a note in ``docs/plugins.md``. The built-in
plugins are held to it by an import-linter contract (tests/test_plugin_api.py runs it).
``docs/plugins.md`` documents every name; ``__all__`` lists them, grouped as below.

Names taken from a core module under another name (``record as record_audit``) say what they
do once they stand alone in a plugin's namespace.
"""

from __future__ import annotations

# Hooks, and what the installed plugins registered
from cci.hookspecs import hookimpl
from cci.plugins import installed_channel
from cci.plugins import installed_set

# Methodology contract: the types a set is made of, and its results
from cci.methodology import RESPONDENT_TYPES
from cci.methodology import AnswerError
from cci.methodology import ChecklistParam
from cci.methodology import Indicator
from cci.methodology import IndicatorSet
from cci.methodology import Item
from cci.methodology import Option
from cci.methodology import Parameter
from cci.results import FederalResult
from cci.results import Figure
from cci.results import OfficeData
from cci.results import OfficeResult
from cci.results import RegionData
from cci.results import RegionResult
from cci.results import effective_n
from cci.results import mean
from cci.results import mean_interval
from cci.results import stars_for
from cci.results import wilson

# Channel contract
from cci.channels import Channel
from cci.channels import QualityRule
from cci.channels import public_endpoint

# Storing answers: the one path for every channel
from cci.intake import Draft
from cci.intake import IntakeError
from cci.intake import Submission
from cci.intake import campaign_for
from cci.intake import local_date
from cci.intake import submit
from cci.intake import validate

# The questionnaire flow shared by respondent-facing channels (a namespace: survey.steps, …)
from cci import survey

# The kiosk's delivery path: validated answers kept first, stored by a job
from cci.inbox import Acceptance
from cci.inbox import accept as accept_delivery
from cci.inbox import known as delivery_known
from cci.inbox import schedule_drain
from cci.intake import CAMPAIGNS_NEAR
from cci.intake import STILL_OPEN
from cci.intake import CampaignKey
from cci.intake import CampaignSpan
from cci.intake import OfficeKey
from cci.intake import near_day
from cci.intake import near_params
from cci.intake import open_among
from cci.intake import open_campaign
from cci.intake import still_open_params
from cci.ratelimit import counted_in_view
from cci.ratelimit import hit as ratelimit_hit
from cci.tenancy import federal_read

# Database, models and tenancy
from cci.db import ID_MAX
from cci.db import Base
from cci.db import JSONType
from cci.db import db
from cci.db import utcnow
from cci.models import Campaign
from cci.models import Checklist
from cci.models import Office
from cci.models import Region
from cci.models import Response
from cci.models import SurveyInvitation
from cci.models import User
from cci.tenancy import Scope
from cci.tenancy import TenantScoped
from cci.tenancy import federal_scope
from cci.tenancy import region_scope

# Pages: access, the region area, rate limits
from cci.access import enter_scope
from cci.access import roles_required
from cci.campaigns import visible_campaigns
from cci.ratelimit import limiter
from cci.ratelimit import per_device
from cci.ratelimit import per_ip
from cci.roles import Role
from cci.views.areas import region_area_blueprint

# The bearer-token API
from cci.api.docs import iso_datetime
from cci.api.docs import list_of
from cci.api.docs import operation
from cci.api.docs import ref
from cci.api.errors import ApiError

# Checklists, audit, jobs
from cci.audit import record as record_audit
from cci.checklists import ChecklistError
from cci.checklists import can_edit as can_edit_checklist
from cci.checklists import save as save_checklist
from cci.checklists import target_level
from cci.compute import schedule_recompute
from cci.jobs import JobError
from cci.jobs import enqueue as enqueue_job
from cci.retention import schedule_purge
from cci.views.checklists import checklist_form

# Reading uploaded files (tables of figures a channel imports)
from cci.imports import FileProblem
from cci.imports import RowError
from cci.imports import UploadError
from cci.imports import cell_text
from cci.imports import check_upload
from cci.imports import parse_moment
from cci.imports import read_table
from cci.values import parse_number

__all__ = [
    # Hooks, and what the installed plugins registered
    "hookimpl",
    "installed_channel",
    "installed_set",
    # Methodology contract
    "RESPONDENT_TYPES",
    "AnswerError",
    "ChecklistParam",
    "Indicator",
    "IndicatorSet",
    "Item",
    "Option",
    "Parameter",
    "FederalResult",
    "Figure",
    "OfficeData",
    "OfficeResult",
    "RegionData",
    "RegionResult",
    "effective_n",
    "mean",
    "mean_interval",
    "stars_for",
    "wilson",
    # Channel contract
    "Channel",
    "QualityRule",
    "public_endpoint",
    # Storing answers
    "Draft",
    "IntakeError",
    "Submission",
    "campaign_for",
    "local_date",
    "submit",
    "validate",
    # The questionnaire flow
    "survey",
    # The kiosk's delivery path
    "Acceptance",
    "accept_delivery",
    "delivery_known",
    "schedule_drain",
    "CAMPAIGNS_NEAR",
    "STILL_OPEN",
    "CampaignKey",
    "CampaignSpan",
    "OfficeKey",
    "near_day",
    "near_params",
    "open_among",
    "open_campaign",
    "still_open_params",
    "counted_in_view",
    "ratelimit_hit",
    "federal_read",
    # Database, models and tenancy
    "ID_MAX",
    "Base",
    "JSONType",
    "db",
    "utcnow",
    "Campaign",
    "Checklist",
    "Office",
    "Region",
    "Response",
    "SurveyInvitation",
    "User",
    "Scope",
    "TenantScoped",
    "federal_scope",
    "region_scope",
    # Pages
    "enter_scope",
    "roles_required",
    "visible_campaigns",
    "limiter",
    "per_device",
    "per_ip",
    "Role",
    "region_area_blueprint",
    # The bearer-token API
    "iso_datetime",
    "list_of",
    "operation",
    "ref",
    "ApiError",
    # Checklists, audit, jobs
    "record_audit",
    "ChecklistError",
    "can_edit_checklist",
    "save_checklist",
    "target_level",
    "schedule_recompute",
    "JobError",
    "enqueue_job",
    "schedule_purge",
    "checklist_form",
    # Reading uploaded files
    "FileProblem",
    "RowError",
    "UploadError",
    "cell_text",
    "check_upload",
    "parse_moment",
    "read_table",
    "parse_number",
]
