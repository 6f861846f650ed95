"""The one place that wires Landflow together from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from engine import expressions
from engine.bpmn import ProcessRuntime
from engine.clock import Clock, SettableClock
from engine.db.connection import make_engine
from engine.db.migrate import upgrade
from engine.expressions.calendar_functions import calendar_functions
from engine.settings import Settings
from engine.storage import open_blob_store

from .access import Access
from .actor import SYSTEM
from .applicant_home import ApplicantHome
from .approval_form import ApprovalFormService
from .attachment_materials import MaterialsCatalog
from .attachments import AttachmentService
from .auth import AuthService
from .calendar import CalendarService
from .case_diagram import CaseDiagramService
from .case_naming import CaseNaming
from .case_record import CaseRecordService
from .definitions import DefinitionService
from .forms import FormRegistry
from .inbox import InboxService
from .incidents import IncidentService
from .instances import InstanceService
from .jobs import JobRunner
from .messages import MessageService
from .names import NameBook
from .organisation import OrganisationService
from .search import CaseSearch
from .sla import SlaService
from .tasks import TaskService
from .time_limits import TIME_LIMITS_FILE, TimeLimitService
from .uow import UnitOfWork
from .workspace import Workspace


@dataclass
class Landflow:
    settings: Settings
    clock: SettableClock
    uow: UnitOfWork
    access: Access
    forms: FormRegistry
    definitions: DefinitionService
    instances: InstanceService
    tasks: TaskService
    calendar: CalendarService
    sla: SlaService
    inbox: InboxService
    organisation: OrganisationService
    messages: MessageService
    jobs: JobRunner
    auth: AuthService
    incidents: IncidentService
    names: NameBook
    naming: CaseNaming
    case_record: CaseRecordService
    case_diagram: CaseDiagramService
    approval_form: ApprovalFormService
    attachments: AttachmentService
    search: CaseSearch
    workspace: Workspace
    applicant: ApplicantHome

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: SettableClock | None = None,
        wall_clock: Clock | None = None,
    ) -> Landflow:
        clock = clock or SettableClock()
        uow = UnitOfWork(make_engine(settings.database_url, echo=settings.sql_echo))
        access = Access()
        zone = ZoneInfo(settings.timezone)
        calendar = CalendarService(uow, clock, access)
        time_limits = TimeLimitService(uow, clock, access)
        sla = SlaService(
            uow, clock, calendar, access, zone, settings.sla_yellow_default, time_limits=time_limits
        )
        runtime = ProcessRuntime(
            clock,
            settings.timezone,
            expressions.Limits(
                max_steps=settings.expression_max_steps, max_seconds=settings.expression_max_seconds
            ),
            calendar_functions(clock.now, calendar.current, zone),
        )
        forms = FormRegistry(settings.forms_dir)
        naming = CaseNaming(settings.processes_dir)
        instances = InstanceService(uow, clock, runtime, access, sla, forms, naming)
        attachments = AttachmentService(
            uow,
            clock,
            access,
            open_blob_store(settings),
            MaterialsCatalog(settings.processes_dir),
            settings.attachments_max_bytes,
            settings.attachments_allowed_types,
        )
        names = NameBook(uow)
        return cls(
            settings=settings,
            clock=clock,
            uow=uow,
            access=access,
            forms=forms,
            definitions=DefinitionService(uow, clock, settings.max_upload_bytes),
            instances=instances,
            tasks=TaskService(uow, clock, forms, instances, access, materials=attachments),
            calendar=calendar,
            sla=sla,
            inbox=InboxService(uow, forms, access, calendar, clock, zone),
            organisation=OrganisationService(uow, clock, access),
            messages=MessageService(uow, clock, instances, access),
            jobs=JobRunner(uow, clock, instances, batch_size=settings.job_batch_size),
            incidents=IncidentService(uow, clock, instances, access),
            names=names,
            naming=naming,
            case_record=CaseRecordService(uow, clock, access, instances, sla, forms),
            case_diagram=CaseDiagramService(uow, clock, access, instances, names),
            approval_form=ApprovalFormService(uow, instances, forms, names, settings.timezone),
            attachments=attachments,
            search=CaseSearch(uow, access),
            workspace=Workspace(uow, clock, names),
            applicant=ApplicantHome(uow, access, instances),
            auth=AuthService(
                uow, clock, timedelta(hours=settings.token_ttl_hours), access, zone, wall_clock
            ),
        )

    def migrate(self) -> None:
        """Bring the schema to the newest version and make sure the official calendar is in."""
        upgrade(self.settings.database_url)
        self.calendar.seed_from_package()

    def start_up(self) -> None:
        """Migrate, then deploy what processes/ holds (unchanged files are no new version)."""
        self.migrate()
        self.forms.check_all()
        self.naming.check()
        self.attachments.start_up()
        self.sla.start_up(self.settings.processes_dir / TIME_LIMITS_FILE)
        if self.settings.deploy_on_startup and self.settings.processes_dir.is_dir():
            self.definitions.deploy_directory(self.settings.processes_dir, SYSTEM)

    def close(self) -> None:
        self.uow.engine.dispose()
