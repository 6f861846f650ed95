"""Persistence: tables, types, connection and migrations."""

from . import audit_tables as audit_tables  # registers the audit log and its chain head
from . import auth_tables as auth_tables  # registers the sign-in throttling counters
from . import dispatch_tables as dispatch_tables  # registers the dashboard targets and indexes
from . import modeler_tables as modeler_tables  # registers the modeler drafts and form versions
from . import notify_tables as notify_tables  # registers the delivery tables on Base.metadata
from . import report_tables as report_tables  # registers the issued dispatch reports
from . import spot_check_tables as spot_check_tables  # registers the spot-check draws
