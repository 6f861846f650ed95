"""Two `landflow worker` processes on one PostgreSQL deliver each message exactly once: 60 mails
queued, both workers send, the SMTP server receives 60 distinct messages and no repeat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.db.notify_tables import Delivery, DeliveryAttempt
from engine.db.tables import User
from tests.processes_support import landflow_env, spawn, wait_for

MAILS = 60


def test_two_workers_on_postgresql_send_each_mail_once(pg_lf, clock, smtp_server, tmp_path):
    lf = pg_lf
    clock.set(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))  # in the past for the workers' wall clock
    with lf.uow.write() as session:
        for user in session.scalars(select(User).where(User.username.in_(["alice", "bob"]))):
            user.email = f"{user.username}@example.gov.cn"
    with lf.uow.write() as session:
        for n in range(MAILS // 2):
            lf.outbox.emit(
                session,
                "task_assigned",
                ["alice", "bob"],
                lf.clock.now(),
                payload={"task": f"第 {n} 号审查", "case_no": f"婺〔2026〕{n}号"},
                key=f"assigned:{n}",
            )
    env = landflow_env(
        lf.settings.database_url,
        scheduler_interval_seconds="0.05",
        delivery_batch_size="3",
        smtp_host=smtp_server.host,
        smtp_port=str(smtp_server.port),
    )
    workers = [spawn(["worker"], env, tmp_path / f"worker{i}.log") for i in range(2)]
    try:

        def all_sent():
            with lf.uow.read() as session:
                return (
                    session.scalar(
                        select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
                    )
                    == MAILS
                )

        wait_for(all_sent, seconds=120)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=20)
    ids = [mail["Message-ID"] for mail in smtp_server.messages]
    assert len(ids) == MAILS and len(set(ids)) == MAILS, "each mail arrived exactly once"
    with lf.uow.read() as session:
        attempts = session.execute(select(DeliveryAttempt.delivery_id, DeliveryAttempt.worker))
        rows = attempts.all()
    assert len(rows) == MAILS and len({d for d, _ in rows}) == MAILS
    assert len({w for _, w in rows}) == 2, "both workers took part"
