"""The isolation core (cci.foundation.tenancy): inside one region's scope, no ORM path reaches
another region's rows, and writes cannot cross the boundary either."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import aliased

from cci.foundation import tenancy
from cci.foundation.models import AuditEntry
from cci.foundation.models import JobRecord
from cci.foundation.models import Office
from cci.foundation.models import Region
from cci.foundation.models import User
from cci.foundation.tenancy import TenantIsolationError
from conftest import region_id

OFFICES_PER_REGION = 2
REGIONS = 13


@pytest.fixture
def ids(app, tenants):
    """Region ids of the two regions the tests play with, and one office of each."""
    bry, vla = region_id(app, "RU-BRY"), region_id(app, "RU-VLA")
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("test set-up"):
        bry_office = db.scalar(select(Office.id).where(Office.code == "BRY-01"))
        vla_office = db.scalar(select(Office.id).where(Office.code == "VLA-01"))
    assert bry and vla and bry != vla and bry_office and vla_office
    return {"bry": bry, "vla": vla, "bry_office": bry_office, "vla_office": vla_office}


@pytest.fixture
def users(make_user, app, ids):
    """Two users in each region, plus a federal one; returns their ids by e-mail."""
    from cci.foundation.db import db

    emails = [
        make_user("auditor", "RU-BRY", email="bry-1@example.ru"),
        make_user("regional_admin", "RU-BRY", email="bry-2@example.ru"),
        make_user("auditor", "RU-VLA", email="vla-1@example.ru"),
        make_user("regional_admin", "RU-VLA", email="vla-2@example.ru"),
        make_user("federal_analyst", email="fed@example.ru"),
    ]
    with app.app_context(), tenancy.federal_scope("test set-up"):
        return {e: db.scalar(select(User.id).where(User.email == e)) for e in emails}


def _offices_by_region(app) -> dict[int, int]:
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("test check"):
        rows = db.execute(select(Office.region_id, func.count()).group_by(Office.region_id))
        return dict(rows.all())


# --- reading ----------------------------------------------------------------------------


def test_select_in_a_region_returns_only_its_rows(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        offices = db.scalars(select(Office)).all()
    assert len(offices) == OFFICES_PER_REGION
    assert {o.region_id for o in offices} == {ids["bry"]}
    assert {o.code for o in offices} == {"BRY-01", "BRY-02"}


def test_asking_for_another_region_by_hand_finds_nothing(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        by_region = db.scalars(select(Office).where(Office.region_id == ids["vla"])).all()
        by_id = db.scalars(select(Office).where(Office.id == ids["vla_office"])).all()
        by_code = db.scalar(select(Office.id).where(Office.code == "VLA-01"))
    assert by_region == [] and by_id == [] and by_code is None


def test_column_and_aggregate_queries_are_filtered(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        codes = db.scalars(select(Office.code).order_by(Office.code)).all()
        counted = db.scalar(select(func.count(Office.id)))
        grouped = db.execute(
            select(Office.region_id, func.count()).group_by(Office.region_id)
        ).all()
    assert codes == ["BRY-01", "BRY-02"]
    assert counted == OFFICES_PER_REGION
    assert grouped == [(ids["bry"], OFFICES_PER_REGION)]


def test_users_of_other_regions_and_federal_users_are_invisible(in_scope, ids, users):
    with in_scope(ids["bry"]) as db:
        emails = set(db.scalars(select(User.email)).all())
        by_email = db.scalar(select(User).where(User.email == "vla-1@example.ru"))
        federal = db.scalar(select(User).where(User.region_id.is_(None)))
    assert emails == {"bry-1@example.ru", "bry-2@example.ru"}
    assert by_email is None
    assert federal is None  # a row without a region is federal-only


def test_federal_scope_sees_every_region(in_scope, ids, users):
    with in_scope(None) as db:
        offices = db.scalars(select(Office)).all()
        emails = set(db.scalars(select(User.email)).all())
    assert len(offices) == REGIONS * OFFICES_PER_REGION
    assert len({o.region_id for o in offices}) == REGIONS
    assert emails == set(users)


def test_regions_themselves_are_not_tenant_data(in_scope, ids):
    """The list of regions is shared; only what belongs to a region is kept apart."""
    with in_scope(ids["bry"]) as db:
        assert db.scalar(select(func.count()).select_from(Region)) == REGIONS


# --- Session.get and the identity map ---------------------------------------------------


def test_get_of_another_regions_id_returns_none(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        assert db.get(Office, ids["vla_office"]) is None
        own = db.get(Office, ids["bry_office"])
        assert own is not None and own.code == "BRY-01"


def test_get_refuses_an_object_already_in_the_identity_map(app, ids):
    """Loaded in the federal scope, then asked for in a regional one, in the same session."""
    from cci.foundation.db import db

    with app.app_context():
        with tenancy.federal_scope("load first"):
            loaded = db.get(Office, ids["vla_office"])
            assert loaded is not None
            assert loaded in db.identity_map.values()
        with tenancy.region_scope(ids["bry"]):
            assert db.get(Office, ids["vla_office"]) is None
            # and a query for it does not come back through the identity map either
            assert db.scalars(select(Office).where(Office.id == ids["vla_office"])).all() == []
        with tenancy.federal_scope("still there for the federal scope"):
            assert db.get(Office, ids["vla_office"]) is loaded


def test_get_of_tenant_data_without_a_scope_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context(), pytest.raises(TenantIsolationError):
        db.get(Office, ids["bry_office"])


def test_get_without_a_scope_raises_even_from_the_identity_map(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        with tenancy.federal_scope("load first"):
            loaded = db.get(Office, ids["bry_office"])  # held: the identity map is weak
            assert loaded in db.identity_map.values()
        with pytest.raises(TenantIsolationError, match="no tenant scope"):
            db.get(Office, ids["bry_office"])


# --- joins, aliases, subqueries, relationships -------------------------------------------


def test_aliased_entities_are_filtered(in_scope, ids):
    other = aliased(Office)
    with in_scope(ids["bry"]) as db:
        rows = db.scalars(select(other)).all()
        codes = db.scalars(select(other.code).where(other.region_id == ids["vla"])).all()
    assert {o.region_id for o in rows} == {ids["bry"]} and len(rows) == OFFICES_PER_REGION
    assert codes == []


def test_self_join_through_an_alias_stays_in_the_region(in_scope, ids):
    """Pairs of offices: both sides of the join are the region's own."""
    other = aliased(Office)
    with in_scope(ids["bry"]) as db:
        pairs = db.execute(
            select(Office.code, other.code).join(other, other.id != Office.id)
        ).all()
    assert sorted(pairs) == [("BRY-01", "BRY-02"), ("BRY-02", "BRY-01")]


def test_join_from_a_shared_table_to_tenant_rows_is_filtered(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        rows = db.execute(
            select(Region.code, Office.code).join(Office, Office.region_id == Region.id)
        ).all()
        outer = db.execute(
            select(Region.code, func.count(Office.id))
            .outerjoin(Office, Office.region_id == Region.id)
            .group_by(Region.code)
        ).all()
    assert {region for region, _ in rows} == {"RU-BRY"}
    counts = dict(outer)
    assert len(counts) == REGIONS
    assert counts["RU-BRY"] == OFFICES_PER_REGION
    assert counts["RU-VLA"] == 0


def test_join_between_tenant_tables_is_filtered(in_scope, ids, users, app):
    from cci.foundation.db import db as session

    # A corrupt row (written with the federal escape hatch): a BRY user pointing at a VLA office.
    with app.app_context(), tenancy.federal_scope("corrupt on purpose"):
        session.get(User, users["bry-1@example.ru"]).office_id = ids["vla_office"]
        session.get(User, users["bry-2@example.ru"]).office_id = ids["bry_office"]
        session.commit()
    with in_scope(ids["bry"]) as db:
        rows = db.execute(select(User.email, Office.code).join(User.office)).all()
    assert rows == [("bry-2@example.ru", "BRY-01")]


def test_subquery_over_tenant_rows_is_filtered(in_scope, ids):
    """The federal overview's pattern (offices counted in a subquery, joined to regions)."""
    counts = select(Office.region_id, func.count(Office.id).label("n")).group_by(
        Office.region_id
    ).subquery()
    with in_scope(ids["bry"]) as db:
        rows = db.execute(
            select(Region.code, func.coalesce(counts.c.n, 0)).outerjoin(
                counts, counts.c.region_id == Region.id
            )
        ).all()
        inside = db.scalars(
            select(Region.code).where(Region.id.in_(select(Office.region_id)))
        ).all()
    assert dict(rows)["RU-BRY"] == OFFICES_PER_REGION
    assert {code for code, n in rows if n} == {"RU-BRY"}
    assert inside == ["RU-BRY"]


def test_many_to_one_lazy_load_cannot_reach_another_region(app, ids, users):
    """User.office of a (corrupt) BRY user pointing at a VLA office loads nothing in BRY."""
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("corrupt on purpose"):
        db.get(User, users["bry-1@example.ru"]).office_id = ids["vla_office"]
        db.commit()

    with app.app_context(), tenancy.region_scope(ids["bry"]):
        user = db.scalar(select(User).where(User.email == "bry-1@example.ru"))
        assert user is not None
        assert user.office is None

    # ... also when the user came from Session.get, and the office sits in the identity map
    with app.app_context():
        with tenancy.federal_scope("warm the identity map"):
            warm = db.get(Office, ids["vla_office"])  # held: the identity map is weak
            assert warm in db.identity_map.values()
        with tenancy.region_scope(ids["bry"]):
            user = db.get(User, users["bry-1@example.ru"])
            assert user is not None
            assert user.office is None


def test_many_to_one_lazy_load_of_own_rows_works(app, ids, users):
    from cci.foundation.db import db

    with app.app_context(), tenancy.federal_scope("set up"):
        db.get(User, users["bry-1@example.ru"]).office_id = ids["bry_office"]
        db.commit()
    with app.app_context(), tenancy.region_scope(ids["bry"]):
        user = db.get(User, users["bry-1@example.ru"])
        assert user.office is not None and user.office.code == "BRY-01"


def test_one_to_many_from_a_shared_row_lists_only_own_rows(app, ids):
    """Region.offices of another region, read in a regional scope, is empty."""
    from cci.foundation.db import db

    with app.app_context(), tenancy.region_scope(ids["bry"]):
        vla = db.scalar(select(Region).where(Region.code == "RU-VLA"))
        bry = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        assert vla.offices == []
        assert [o.code for o in bry.offices] == ["BRY-01", "BRY-02"]
    with app.app_context(), tenancy.federal_scope("federal reads all"):
        vla = db.scalar(select(Region).where(Region.code == "RU-VLA"))
        assert [o.code for o in vla.offices] == ["VLA-01", "VLA-02"]


# --- the SQL actually sent ----------------------------------------------------------------


def test_the_sql_sent_in_a_regional_scope_filters_by_region(app, ids):
    from cci.foundation.db import db

    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        sent.append((statement, parameters))

    engine = app.extensions["cci.engine"]
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with app.app_context(), tenancy.region_scope(ids["bry"]):
            db.scalars(select(Office.code).where(Office.active.is_(True))).all()
            db.scalars(select(aliased(Office, name="o2")).limit(5)).all()
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    selects = [(sql, params) for sql, params in sent if "FROM offices" in sql]
    assert len(selects) == 2
    for sql, params in selects:
        where = sql.split("WHERE", 1)[1]
        assert "region_id =" in where, sql
        values = params.values() if isinstance(params, dict) else params
        assert ids["bry"] in list(values), (sql, params)
    assert "o2.region_id =" in selects[1][0]


def test_the_region_filter_is_not_baked_into_the_statement(app, ids):
    """The same statement object run in two scopes gives each scope its own rows."""
    from cci.foundation.db import db

    statement = select(Office.code).order_by(Office.code)
    with app.app_context():
        with tenancy.region_scope(ids["bry"]):
            bry = db.scalars(statement).all()
        with tenancy.region_scope(ids["vla"]):
            vla = db.scalars(statement).all()
        with tenancy.federal_scope("all"):
            everything = db.scalars(statement).all()
        with tenancy.region_scope(ids["bry"]):  # its criteria are kept per region
            bry_again = db.scalars(statement).all()
    assert bry == bry_again == ["BRY-01", "BRY-02"]
    assert vla == ["VLA-01", "VLA-02"]
    assert len(everything) == REGIONS * OFFICES_PER_REGION


# --- bulk statements ------------------------------------------------------------------------


def test_bulk_update_touches_only_own_rows(app, in_scope, ids):
    with in_scope(ids["bry"]) as db:
        result = db.execute(update(Office).values(address="обновлено"))
        assert result.rowcount == OFFICES_PER_REGION
        aimed = db.execute(
            update(Office).where(Office.id == ids["vla_office"]).values(address="взлом")
        )
        assert aimed.rowcount == 0
        db.commit()
    with in_scope(None) as db:
        changed = db.execute(
            select(Office.region_id, func.count()).where(Office.address == "обновлено")
            .group_by(Office.region_id)
        ).all()
        assert changed == [(ids["bry"], OFFICES_PER_REGION)]
        assert db.scalar(select(func.count()).where(Office.address == "взлом")) == 0


def test_bulk_delete_touches_only_own_rows(app, in_scope, ids):
    before = _offices_by_region(app)
    with in_scope(ids["bry"]) as db:
        aimed = db.execute(delete(Office).where(Office.region_id == ids["vla"]))
        assert aimed.rowcount == 0
        result = db.execute(delete(Office))
        assert result.rowcount == OFFICES_PER_REGION
        db.commit()
    after = _offices_by_region(app)
    assert ids["bry"] not in after
    assert {k: v for k, v in before.items() if k != ids["bry"]} == after


def test_bulk_update_without_a_scope_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        with pytest.raises(TenantIsolationError):
            db.execute(update(Office).values(address="x"))
        db.rollback()
    assert all(n == OFFICES_PER_REGION for n in _offices_by_region(app).values())


def test_bulk_update_by_primary_key_is_refused_in_a_regional_scope(app, in_scope, ids):
    """A list of rows by primary key would bypass the region filter: refused outright."""
    with in_scope(ids["bry"]) as db:
        with pytest.raises(TenantIsolationError, match="bulk UPDATE"):
            db.execute(update(Office), [{"id": ids["vla_office"], "name": "взлом"}])
        db.rollback()
    with in_scope(None) as db:
        assert db.scalar(select(Office.name).where(Office.id == ids["vla_office"])) != "взлом"
        # the federal scope may do it
        db.execute(update(Office), [{"id": ids["vla_office"], "name": "федеральная правка"}])
        db.commit()
        assert db.scalar(select(Office.name).where(Office.id == ids["vla_office"])) == (
            "федеральная правка"
        )


def test_rows_appended_around_the_orm_must_carry_the_current_region(app, in_scope, ids):
    """cci.foundation.db.append_rows (COPY on PostgreSQL) skips the session's events: guarded
    itself."""
    from cci.foundation.db import append_rows

    columns = ("code", "name", "region_id", "kind", "active", "is_sample", "address")
    mine = ("BRY-80", "Свой", ids["bry"], "branch", True, False, "")
    theirs = ("VLA-80", "Чужой", ids["vla"], "branch", True, False, "")
    with in_scope(ids["bry"]) as db:
        with pytest.raises(TenantIsolationError, match="region_id"):
            append_rows(db, Office, columns, [mine, theirs])
        db.rollback()
    with in_scope(None) as db:
        assert db.scalar(select(func.count()).where(Office.code.in_(["BRY-80", "VLA-80"]))) == 0
    with in_scope(ids["bry"]) as db:
        new_ids = append_rows(db, Office, columns, [mine], return_ids=True)
        db.commit()
    with in_scope(None) as db:
        assert db.scalar(select(Office.code).where(Office.id == new_ids[0])) == "BRY-80"


def test_core_update_of_a_tenant_table_is_refused_in_a_regional_scope(app, in_scope, ids):
    with in_scope(ids["bry"]) as db:
        with pytest.raises(TenantIsolationError, match="tenant_filtered"):
            db.execute(update(Office.__table__).values(address="взлом"))
        db.rollback()
    with in_scope(None) as db:
        assert db.scalar(select(func.count()).where(Office.address == "взлом")) == 0


def test_orm_bulk_insert_must_carry_the_current_region(app, in_scope, ids):
    from sqlalchemy import insert

    with in_scope(ids["bry"]) as db:
        with pytest.raises(TenantIsolationError, match="region_id"):
            db.execute(insert(Office), [{"code": "X-1", "name": "x", "region_id": ids["vla"]}])
        db.rollback()
        with pytest.raises(TenantIsolationError, match="region_id"):
            db.execute(insert(Office).values(code="X-2", name="x", region_id=ids["vla"]))
        db.rollback()
        with pytest.raises(TenantIsolationError):  # no region: would be nobody's row
            db.execute(insert(JobRecord), [{"rq_id": "bulk-1", "name": "x"}])
        db.rollback()
        db.execute(insert(Office), [
            {"code": "BRY-90", "name": "Свой", "region_id": ids["bry"]},
            {"code": "BRY-91", "name": "Свой", "region_id": ids["bry"]},
        ])
        db.commit()
    assert _offices_by_region(app)[ids["bry"]] == OFFICES_PER_REGION + 2
    assert _offices_by_region(app)[ids["vla"]] == OFFICES_PER_REGION


# --- writing ------------------------------------------------------------------------------


def test_new_rows_are_stamped_with_the_current_region(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        office = Office(code="BRY-99", name="Новый офис")
        job = JobRecord(rq_id="stamp-test", name="test.noop")
        db.add_all([office, job])
        db.flush()
        assert office.region_id == ids["bry"]
        assert job.region_id == ids["bry"]  # nullable tenant column: stamped all the same
        db.commit()
    with in_scope(None) as db:
        stored = db.scalar(select(Office).where(Office.code == "BRY-99"))
        assert stored.region_id == ids["bry"]


def test_federal_scope_does_not_invent_a_region(in_scope, ids):
    with in_scope(None) as db:
        entry = AuditEntry(actor="system: test", action="test", object_type="x", object_id="1")
        db.add(entry)
        db.flush()
        assert entry.region_id is None


def test_adding_a_row_of_another_region_raises(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        db.add(Office(code="VLA-99", name="Чужой офис", region_id=ids["vla"]))
        with pytest.raises(TenantIsolationError, match="another region"):
            db.flush()
        db.rollback()
    with in_scope(None) as db:
        assert db.scalar(select(Office).where(Office.code == "VLA-99")) is None


def test_changing_another_regions_row_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        with tenancy.federal_scope("load"):
            office = db.get(Office, ids["vla_office"])
        with tenancy.region_scope(ids["bry"]):
            office.name = "Переименован чужим регионом"
            with pytest.raises(TenantIsolationError):
                db.flush()
            db.rollback()
    with app.app_context(), tenancy.federal_scope("check"):
        assert db.get(Office, ids["vla_office"]).name != "Переименован чужим регионом"


def test_deleting_another_regions_row_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        with tenancy.federal_scope("load"):
            office = db.get(Office, ids["vla_office"])
        with tenancy.region_scope(ids["bry"]):
            db.delete(office)
            with pytest.raises(TenantIsolationError):
                db.flush()
            db.rollback()
    with app.app_context(), tenancy.federal_scope("check"):
        assert db.get(Office, ids["vla_office"]) is not None


def test_moving_own_row_to_another_region_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context(), tenancy.region_scope(ids["bry"]):
        office = db.get(Office, ids["bry_office"])
        office.region_id = ids["vla"]
        with pytest.raises(TenantIsolationError):
            db.flush()
        db.rollback()
    with app.app_context(), tenancy.federal_scope("check"):
        assert db.get(Office, ids["bry_office"]).region_id == ids["bry"]


def test_writing_tenant_rows_without_a_scope_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        db.add(Office(code="NOSCOPE", name="x", region_id=ids["bry"]))
        with pytest.raises(TenantIsolationError, match="without a tenant scope"):
            db.flush()
        db.rollback()


def test_own_rows_are_written_normally(app, ids):
    from cci.foundation.db import db

    with app.app_context(), tenancy.region_scope(ids["bry"]):
        db.get(Office, ids["bry_office"]).name = "Переименован"
        db.commit()
    with app.app_context(), tenancy.federal_scope("check"):
        assert db.get(Office, ids["bry_office"]).name == "Переименован"


# --- no scope, raw SQL --------------------------------------------------------------------


@pytest.mark.parametrize("model", [Office, User, JobRecord, AuditEntry])
def test_querying_tenant_data_without_a_scope_raises(app, tenants, model):
    from cci.foundation.db import db

    with app.app_context(), pytest.raises(TenantIsolationError, match="without a tenant scope"):
        db.scalars(select(model)).all()


def test_shared_data_needs_no_scope(app, tenants):
    from cci.foundation.db import db

    with app.app_context():
        assert db.scalar(select(func.count()).select_from(Region)) == REGIONS


def test_text_sql_over_a_tenant_table_raises_in_a_regional_scope(in_scope, ids):
    with in_scope(ids["bry"]) as db, pytest.raises(TenantIsolationError, match="tenant_filtered"):
        db.execute(text("SELECT code FROM offices"))


def test_core_select_of_a_tenant_table_raises_in_a_regional_scope(in_scope, ids):
    offices = Office.__table__
    with in_scope(ids["bry"]) as db, pytest.raises(TenantIsolationError):
        db.execute(select(offices.c.code))


def test_core_subquery_over_a_tenant_table_raises_in_a_regional_scope(in_scope, ids):
    """A tenant table hidden in a subquery of a Core statement is still seen."""
    offices, regions = Office.__table__, Region.__table__
    with in_scope(ids["bry"]) as db, pytest.raises(TenantIsolationError):
        db.execute(
            select(regions.c.code).where(regions.c.id.in_(select(offices.c.region_id)))
        )


def test_orm_subquery_over_tenant_data_without_a_scope_raises(app, tenants):
    from cci.foundation.db import db

    with app.app_context(), pytest.raises(TenantIsolationError, match="without a tenant scope"):
        db.scalars(select(Region.code).where(Region.id.in_(select(Office.region_id)))).all()


def test_lazy_load_of_tenant_data_without_a_scope_raises(app, ids):
    from cci.foundation.db import db

    with app.app_context():
        region = db.scalar(select(Region).where(Region.code == "RU-BRY"))
        with pytest.raises(TenantIsolationError):
            region.offices  # noqa: B018 - the attribute access is the load


def test_text_sql_without_a_scope_raises(app, tenants):
    from cci.foundation.db import db

    with app.app_context(), pytest.raises(TenantIsolationError):
        db.execute(text("SELECT code FROM offices"))


def test_text_sql_that_says_it_filtered_runs(in_scope, ids):
    with in_scope(ids["bry"]) as db:
        codes = db.scalars(
            text("SELECT code FROM offices WHERE region_id = :r ORDER BY code")
            .bindparams(r=ids["bry"]),
            execution_options={"tenant_filtered": True},
        ).all()
        via_statement = db.scalars(
            text("SELECT code FROM offices WHERE region_id = :r ORDER BY code")
            .bindparams(r=ids["bry"])
            .execution_options(tenant_filtered=True)
        ).all()
    assert codes == via_statement == ["BRY-01", "BRY-02"]


def test_text_sql_in_the_federal_scope_runs(in_scope, ids):
    with in_scope(None) as db:
        assert db.scalar(text("SELECT count(*) FROM offices")) == REGIONS * OFFICES_PER_REGION


# --- scopes ---------------------------------------------------------------------------------


def test_scopes_nest_and_restore(ids):
    assert tenancy.current_scope() is None
    with tenancy.region_scope(ids["bry"]):
        assert tenancy.current_region_id() == ids["bry"]
        with tenancy.federal_scope("nested") as inner:
            assert inner.federal and tenancy.current_region_id() is None
        assert tenancy.current_region_id() == ids["bry"]
    assert tenancy.current_scope() is None


def test_scope_is_restored_after_an_error(ids):
    with pytest.raises(ZeroDivisionError), tenancy.region_scope(ids["bry"]):
        raise ZeroDivisionError
    assert tenancy.current_scope() is None


# --- a batch of many regions -------------------------------------------------------------


def test_a_regions_part_of_a_batch_is_narrowed_from_the_federal_scope_only(app, ids):
    """A batch of many regions (intake.store_batch) is worked on part by part, in the part's
    scope; a region's scope cannot be narrowed to another region, and no scope to any."""
    from cci.foundation.db import db

    rows = [Office(id=1, region_id=ids["bry"]), Office(id=2, region_id=ids["vla"]),
            Office(id=3, region_id=ids["bry"])]
    parts = tenancy.by_region(rows)
    assert [[o.id for o in part] for part in parts.values()] == [[1, 3], [2]]
    with app.app_context():
        with tenancy.federal_scope("test"):
            with tenancy.narrowed(ids["vla"], "test"):
                assert set(db.scalars(select(Office.region_id))) == {ids["vla"]}
            assert tenancy.current_scope().federal
        with tenancy.region_scope(ids["bry"], "test"):
            with tenancy.narrowed(ids["bry"], "test"):
                assert tenancy.current_region_id() == ids["bry"]
            with pytest.raises(TenantIsolationError):
                tenancy.narrowed(ids["vla"], "test")
        with pytest.raises(TenantIsolationError):
            tenancy.narrowed(ids["bry"], "test")
