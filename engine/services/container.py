"""The one place that wires Landflow together from Settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from engine import expressions
from engine.bpmn import Budgets, ProcessRuntime
from engine.clock import Clock, SettableClock, SystemClock
from engine.db.connection import make_engine
from engine.db.migrate import is_current, upgrade
from engine.expressions.calendar_functions import calendar_functions
from engine.settings import Settings
from engine.storage import open_blob_store

from .access import Access
from .actor import SYSTEM
from .applicant_home import ApplicantHome
from .approval_form import ApprovalFormService
from .attachment_materials import MaterialsCatalog
from .attachments import AttachmentService
from .audit import AuditService
from .auth import AuthService
from .calendar import CalendarService
from .case_diagram import CaseDiagramService
from .case_naming import CaseNaming
from .case_record import CaseRecordService
from .dashboard import DashboardService
from .dashboard_months import ROLLUP_JOB
from .definitions import DefinitionService
from .forms import FormRegistry
from .inbox import InboxService
from .incidents import IncidentService
from .instances import InstanceService
from .jobs import JobRunner
from .messages import MessageService
from .migrations import MigrationService
from .modeler import ModelerService
from .modeler_forms import FormEditorService
from .names import NameBook
from .notify.channels import build_channels
from .notify.deliveries import DeliveryPolicy, DeliveryRunner
from .notify.delivery_log import DeliveryLog
from .notify.digest import DigestCollector
from .notify.endpoints import EndpointService
from .notify.outbox import DIGEST_JOB, Outbox
from .notify.preferences import PreferenceService
from .notify.templates import TemplateStore
from .organisation import OrganisationService
from .reports import REPORT_JOB, ReportService
from .search import CaseSearch
from .sla import SlaService
from .spot_checks import SpotCheckService
from .supervision import SupervisionService
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
    dispatch: DashboardService
    outbox: Outbox
    templates: TemplateStore
    deliveries: DeliveryRunner
    delivery_log: DeliveryLog
    endpoints: EndpointService
    preferences: PreferenceService
    spot_checks: SpotCheckService
    audit: AuditService
    modeler: ModelerService
    form_editor: FormEditorService
    supervision: SupervisionService
    migrations: MigrationService
    reports: ReportService

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
        outbox = Outbox(zone)
        calendar = CalendarService(uow, clock, access, outbox=outbox)
        time_limits = TimeLimitService(uow, clock, access)
        sla = SlaService(
            uow,
            clock,
            calendar,
            access,
            zone,
            settings.sla_yellow_default,
            time_limits=time_limits,
            outbox=outbox,
        )
        runtime = ProcessRuntime(
            clock,
            settings.timezone,
            expressions.Limits(
                max_steps=settings.expression_max_steps, max_seconds=settings.expression_max_seconds
            ),
            calendar_functions(clock.now, calendar.current, zone),
            Budgets.from_settings(settings),
        )
        forms = FormRegistry(settings.forms_dir)
        naming = CaseNaming(settings.processes_dir)
        instances = InstanceService(uow, clock, runtime, access, sla, forms, naming, outbox=outbox)
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
        templates = TemplateStore(
            settings.notifications_dir, uow, clock, zone, settings.public_url, access
        )
        jobs = JobRunner(
            uow,
            clock,
            instances,
            batch_size=settings.job_batch_size,
            handlers={DIGEST_JOB: DigestCollector(templates, zone)},
        )
        deliveries = DeliveryRunner(
            uow,
            clock,
            templates,
            build_channels(settings, (wall_clock or SystemClock()).now),
            DeliveryPolicy(
                max_attempts=settings.delivery_max_attempts,
                backoff_seconds=settings.delivery_backoff_seconds,
                backoff_cap_seconds=settings.delivery_backoff_cap_seconds,
                lease_seconds=settings.delivery_lease_seconds,
                batch_size=settings.delivery_batch_size,
            ),
            jobs.worker_id,
        )
        definitions = DefinitionService(
            uow, clock, settings.max_upload_bytes, Budgets.from_settings(settings)
        )
        tasks = TaskService(uow, clock, forms, instances, access, materials=attachments)
        dispatch = DashboardService(
            uow, clock, access, calendar, names, zone, settings.processes_dir
        )
        reports = ReportService(uow, clock, access, dispatch, outbox, zone, settings.processes_dir)
        jobs.handlers[REPORT_JOB] = reports.fire
        jobs.handlers[ROLLUP_JOB] = dispatch.months.fire
        return cls(
            settings=settings,
            clock=clock,
            uow=uow,
            access=access,
            forms=forms,
            definitions=definitions,
            instances=instances,
            tasks=tasks,
            calendar=calendar,
            sla=sla,
            inbox=InboxService(uow, forms, access, calendar, clock, zone),
            organisation=OrganisationService(uow, clock, access, zone),
            messages=MessageService(uow, clock, instances, access),
            jobs=jobs,
            incidents=IncidentService(uow, clock, instances, access),
            names=names,
            naming=naming,
            case_record=CaseRecordService(uow, clock, access, instances, sla, forms),
            case_diagram=CaseDiagramService(uow, clock, access, instances, names),
            approval_form=ApprovalFormService(uow, instances, forms, names, settings.timezone),
            attachments=attachments,
            search=CaseSearch(uow, access),
            workspace=Workspace(uow, clock, names, templates),
            applicant=ApplicantHome(uow, access, instances),
            dispatch=dispatch,
            outbox=outbox,
            templates=templates,
            deliveries=deliveries,
            delivery_log=DeliveryLog(uow, clock, access),
            endpoints=EndpointService(uow, clock, access),
            preferences=PreferenceService(uow, clock),
            spot_checks=SpotCheckService(
                uow, clock, instances, names, zone, settings.processes_dir
            ),
            modeler=ModelerService(
                uow,
                clock,
                access,
                definitions,
                forms,
                settings.max_upload_bytes,
                MaterialsCatalog(settings.processes_dir),
            ),
            form_editor=FormEditorService(uow, clock, access, forms),
            supervision=SupervisionService(uow, clock, access, instances, tasks, names, outbox),
            audit=AuditService(uow, access),
            auth=AuthService(
                uow, clock, timedelta(hours=settings.token_ttl_hours), access, zone, wall_clock
            ),
            migrations=MigrationService(uow, clock, instances, access),
            reports=reports,
        )

    def migrate(self) -> None:
        """Bring the schema to the newest version and make sure the official calendar is in."""
        if not is_current(self.uow.engine):
            upgrade(self.settings.database_url)
        self.calendar.seed_from_package()

    def start_up(self) -> None:
        """Migrate, then deploy what processes/ holds (unchanged files are no new version)."""
        self.migrate()
        self.forms.check_all()
        self.naming.check()
        self.attachments.start_up()
        self.sla.start_up(self.settings.processes_dir / TIME_LIMITS_FILE)
        self.templates.start_up()
        if self.settings.deploy_on_startup and self.settings.processes_dir.is_dir():
            self.definitions.deploy_directory(self.settings.processes_dir, SYSTEM)

    def runners(self) -> list[Callable[[], int]]:
        """What the scheduler ticks: due jobs (timers, time limits, digests, scheduled reports
        and the month roll-up's rebuild, whose jobs are armed here) and deliveries."""
        self.reports.arm_schedule()
        self.dispatch.months.arm()
        return [self.jobs.run_due, self.deliveries.run_due]

    def close(self) -> None:
        self.uow.engine.dispose()
