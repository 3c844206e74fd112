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

# The questionnaire flow shared by respondent-facing channels (a namespace: survey.steps, …)
from cci.collection import survey
from cci.collection.campaigns import visible_campaigns
from cci.collection.case_contacts import CONSENT_TEXT as CASE_CONTACT_CONSENT
from cci.collection.case_contacts import ContactError as CaseContactError
from cci.collection.cases import leave_contact as leave_case_contact
from cci.collection.cases import resolved as resolved_feedback
from cci.collection.cases import wants_contact as case_contact_wanted

# Channel contract
from cci.collection.channels import Channel
from cci.collection.channels import QualityRule
from cci.collection.channels import public_endpoint
from cci.collection.checklists import ChecklistError
from cci.collection.checklists import can_edit as can_edit_checklist
from cci.collection.checklists import save as save_checklist
from cci.collection.checklists import target_level

# Reading uploaded files (tables of figures a channel imports)
from cci.collection.imports import FileProblem
from cci.collection.imports import RowError
from cci.collection.imports import UploadError
from cci.collection.imports import cell_text
from cci.collection.imports import check_upload
from cci.collection.imports import parse_moment
from cci.collection.imports import read_table

# What a channel that stores in the request needs beyond submit
from cci.collection.intake import RETRY_AFTER_SECONDS
from cci.collection.intake import UNAVAILABLE as DATABASE_UNAVAILABLE

# Storing answers: the one path for every channel
from cci.collection.intake import Draft
from cci.collection.intake import IntakeError
from cci.collection.intake import OfficeKey
from cci.collection.intake import Submission
from cci.collection.intake import campaign_for
from cci.collection.intake import existing as stored_response
from cci.collection.intake import local_date
from cci.collection.intake import open_campaign
from cci.collection.intake import submit
from cci.collection.intake import validate
from cci.collection.recompute import follow as follow_the_data
from cci.collection.retention import schedule_purge
from cci.collection.touchpoints import TouchpointSubmission
from cci.collection.touchpoints import questions as touchpoint_questions
from cci.collection.touchpoints import submit as submit_touchpoint

# Pages: access, the region area, rate limits
from cci.foundation.access import blueprint_roles
from cci.foundation.access import enter_scope
from cci.foundation.access import roles_required

# Checklists, audit, jobs
from cci.foundation.audit import AuditObject
from cci.foundation.audit import AuditVocabulary
from cci.foundation.audit import record as record_audit

# Database, models and tenancy
from cci.foundation.db import ID_MAX
from cci.foundation.db import Base
from cci.foundation.db import JSONType
from cci.foundation.db import db
from cci.foundation.db import utcnow
from cci.foundation.jobs import JobError
from cci.foundation.jobs import enqueue as enqueue_job
from cci.foundation.models import Campaign
from cci.foundation.models import Checklist
from cci.foundation.models import CxCount
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import Response
from cci.foundation.models import SurveyInvitation
from cci.foundation.models import TouchpointAnswer
from cci.foundation.models import User
from cci.foundation.roles import Role
from cci.foundation.tenancy import Scope
from cci.foundation.tenancy import TenantScoped
from cci.foundation.tenancy import federal_scope
from cci.foundation.tenancy import region_scope
from cci.hooks.manager import installed_channel
from cci.hooks.manager import installed_cx_metrics
from cci.hooks.manager import installed_set
from cci.hooks.manager import installed_sets
from cci.hooks.readings import Reading

# Hooks, and what the installed plugins registered
from cci.hooks.specs import hookimpl

# why a questionnaire refuses an answer (AnswerError.reason)
from cci.methodology.contract import CONDITION_UNMET
from cci.methodology.contract import NOT_A_NUMBER
from cci.methodology.contract import NOT_ASKED
from cci.methodology.contract import NOT_WHOLE
from cci.methodology.contract import NOT_YES_NO
from cci.methodology.contract import OUT_OF_RANGE
from cci.methodology.contract import REQUIRED

# Methodology contract: the types a set is made of, and its results
from cci.methodology.contract import RESPONDENT_TYPES
from cci.methodology.contract import TEXT_MAX
from cci.methodology.contract import TOO_LONG
from cci.methodology.contract import UNANSWERED
from cci.methodology.contract import UNKNOWN_ITEM
from cci.methodology.contract import UNKNOWN_OPTION
from cci.methodology.contract import UNKNOWN_RESPONDENT_TYPE
from cci.methodology.contract import AnswerError
from cci.methodology.contract import ChecklistParam
from cci.methodology.contract import DeclaredChange
from cci.methodology.contract import Indicator
from cci.methodology.contract import IndicatorSet
from cci.methodology.contract import Item
from cci.methodology.contract import Option
from cci.methodology.contract import Parameter
from cci.methodology.contract import ThemePair
from cci.methodology.contract import read_respondent_type
from cci.methodology.cx import TOUCHPOINTS
from cci.methodology.cx import CxMetric
from cci.methodology.cx import CxQuestion
from cci.methodology.cx import CxWindow
from cci.methodology.figures import FederalData
from cci.methodology.figures import FederalResult
from cci.methodology.figures import Figure
from cci.methodology.figures import FigureAggregate
from cci.methodology.figures import OfficeData
from cci.methodology.figures import OfficeResult
from cci.methodology.figures import RegionData
from cci.methodology.figures import RegionResult
from cci.methodology.figures import effective_n
from cci.methodology.figures import interval_of_shares
from cci.methodology.figures import mean
from cci.methodology.figures import mean_interval
from cci.methodology.figures import spread_interval
from cci.methodology.figures import stars_for
from cci.methodology.figures import wilson
from cci.methodology.values import exact_number
from cci.methodology.values import parse_number
from cci.methodology.values import parse_yes_no

# The bearer-token API
from cci.web.api.docs import iso_datetime
from cci.web.api.docs import list_of
from cci.web.api.docs import operation
from cci.web.api.docs import ref
from cci.web.api.errors import ApiError
from cci.web.comment_text import masked as masked_text
from cci.web.moments import local_time
from cci.web.ratelimit import limiter
from cci.web.ratelimit import per_device
from cci.web.ratelimit import per_ip
from cci.web.views.areas import region_area_blueprint
from cci.web.views.checklists import checklist_form

# Grouped by topic, as the plugin author reads it, not sorted.
__all__ = [  # noqa: RUF022
    # Hooks, and what the installed plugins registered
    "hookimpl",
    "installed_channel",
    "installed_set",
    "installed_sets",
    "installed_cx_metrics",
    "Reading",
    # CX metrics of the journey map's touchpoints
    "CxMetric",
    "CxQuestion",
    "CxWindow",
    "TOUCHPOINTS",
    "TouchpointAnswer",
    "CxCount",
    "TouchpointSubmission",
    "submit_touchpoint",
    "touchpoint_questions",
    # Cases: a respondent's feedback answered
    "case_contact_wanted",
    "leave_case_contact",
    "CaseContactError",
    "CASE_CONTACT_CONSENT",
    "resolved_feedback",
    "masked_text",
    # Methodology contract
    "RESPONDENT_TYPES",
    "AnswerError",
    "read_respondent_type",
    "CONDITION_UNMET",
    "NOT_A_NUMBER",
    "NOT_ASKED",
    "NOT_WHOLE",
    "NOT_YES_NO",
    "OUT_OF_RANGE",
    "REQUIRED",
    "TEXT_MAX",
    "TOO_LONG",
    "UNANSWERED",
    "UNKNOWN_ITEM",
    "UNKNOWN_OPTION",
    "UNKNOWN_RESPONDENT_TYPE",
    "ChecklistParam",
    "DeclaredChange",
    "Indicator",
    "IndicatorSet",
    "Item",
    "Option",
    "Parameter",
    "ThemePair",
    "FederalData",
    "FederalResult",
    "FigureAggregate",
    "Figure",
    "OfficeData",
    "OfficeResult",
    "RegionData",
    "RegionResult",
    "effective_n",
    "mean",
    "interval_of_shares",
    "mean_interval",
    "stars_for",
    "spread_interval",
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
    # Storing in the request
    "RETRY_AFTER_SECONDS",
    "DATABASE_UNAVAILABLE",
    "OfficeKey",
    "stored_response",
    "open_campaign",
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
    "blueprint_roles",
    "visible_campaigns",
    "limiter",
    "per_device",
    "per_ip",
    "Role",
    "region_area_blueprint",
    "local_time",
    # The bearer-token API
    "iso_datetime",
    "list_of",
    "operation",
    "ref",
    "ApiError",
    # Checklists, audit, jobs
    "record_audit",
    "AuditObject",
    "AuditVocabulary",
    "ChecklistError",
    "can_edit_checklist",
    "save_checklist",
    "target_level",
    "follow_the_data",
    "JobError",
    "JobRecord",
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
    "exact_number",
    "parse_yes_no",
]
