"""newsroom hygiene: outlet identity, report identity, stories, stored "what would change it"

Revision ID: 0004_newsroom_hygiene
Revises: 0003_performance_indexes
Create Date: 2026-11-30 03:40:00

The whole team's schema change for issues 13 and 14, in one revision:

- **Outlet identity** (issue 14, item 1). ``outlet_aliases`` holds the other names an
  outlet goes by, each with its normalised form, unique across outlets, so that one
  spelling names one outlet; ``outlet_domains`` the web domains it publishes on (host,
  lower-case, no leading ``www.``; a CHECK holds any writer to that form). Both belong to
  their outlet (ON DELETE CASCADE). ``outlets.vetted`` is false for an outlet created from
  a name nobody had entered; ``outlets.prior_reliability`` becomes nullable, because such
  an outlet has no prior of its own (scoring gives it its kind's behaviour). Outlets the
  recorder made from unknown names before this revision are marked unvetted here: they
  are the ones whose rationale it wrote ("First seen in a report recorded by …"). Their
  priors are left as they are, so no stored score goes stale.
- **Report identity** (item 2). ``reports.cites_inferred``: the ``cites_id`` link was
  inferred from near-identical wording, not stated by the sender; ``reports.independent``:
  the sender says the report is not an echo, so no link is ever inferred for it (a CHECK
  holds both rules). No column for duplicates: a duplicate post is answered with the
  stored report and never becomes a row.
- **Verdicts** (item 3). ``verdicts.replaces_verdict``: this verdict overturned an earlier,
  opposite one, as asked for explicitly.
- **Stories and "what would change it"** (issue 13, items 5 and 8). ``claims.story``
  (indexed: the dashboard filters by it, the model groups by it) and
  ``claims.what_would_change``, the stored list of hypothetical reports that would move
  the score most, written with the score (reads never recompute).

New boolean columns carry a server default, so rows written by paths that do not name
them (COPY in the bulk import, restores of older backups) get the default.

Downgrade drops all of it. What the old schema cannot hold is lost: aliases, domains,
stories, stored "what would change it", and the *inferred* flag (the links themselves
stay, as stated citations, so scores do not move). An outlet without a prior gets its
kind's prior reliability as of this revision (``scoring.attribution.OUTLET_KIND_PRIORS``),
which is what the recorder stored for an unknown outlet before.
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_newsroom_hygiene'
down_revision = '0003_performance_indexes'
branch_labels = None
depends_on = None

# What the recorder wrote as the rationale of an outlet it created from an unknown name.
UNKNOWN_NAME_RATIONALE = 'First seen in a report recorded by %'

# scoring.attribution.OUTLET_KIND_PRIORS as of this revision (for the downgrade only;
# copied, not imported: a migration must not change when the code it ran with does).
KIND_PRIORS = {
    'wire_agency': 0.85,
    'public_broadcaster': 0.75,
    'newspaper': 0.70,
    'independent': 0.60,
    'state_controlled': 0.50,
    'aggregator': 0.50,
    'social_account': 0.50,
}
DEFAULT_PRIOR = 0.60  # the default kind's ("independent")


def upgrade() -> None:
    # -- outlet identity ---------------------------------------------------------------------
    op.create_table('outlet_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('normalised', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("normalised <> ''", name=op.f('ck_outlet_aliases_normalised_not_empty')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_aliases_outlet_id_outlets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlet_aliases')),
    sa.UniqueConstraint('normalised', name=op.f('uq_outlet_aliases_normalised'))
    )
    with op.batch_alter_table('outlet_aliases', schema=None) as batch_op:
        batch_op.create_index('ix_outlet_aliases_outlet_id', ['outlet_id'], unique=False)

    op.create_table('outlet_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("domain <> '' AND domain = lower(domain) AND domain NOT LIKE 'www.%'", name=op.f('ck_outlet_domains_domain_normalised')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_domains_outlet_id_outlets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlet_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_outlet_domains_domain'))
    )
    with op.batch_alter_table('outlet_domains', schema=None) as batch_op:
        batch_op.create_index('ix_outlet_domains_outlet_id', ['outlet_id'], unique=False)

    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vetted', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.alter_column('prior_reliability', existing_type=sa.Float(), nullable=True)
        batch_op.drop_constraint(op.f('ck_outlets_prior_reliability_range'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outlets_prior_reliability_range'),
            'prior_reliability IS NULL OR (prior_reliability > 0 AND prior_reliability < 1)',
        )
    outlets = sa.table('outlets', sa.column('vetted', sa.Boolean()), sa.column('prior_rationale', sa.Text()))
    op.execute(
        outlets.update()
        .where(outlets.c.prior_rationale.like(UNKNOWN_NAME_RATIONALE))
        .values(vetted=False)
    )

    # -- report identity ---------------------------------------------------------------------
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cites_inferred', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('independent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_reports_inferred_has_cites'), 'NOT cites_inferred OR cites_id IS NOT NULL'
        )
        batch_op.create_check_constraint(
            op.f('ck_reports_independent_not_inferred'), 'NOT (cites_inferred AND independent)'
        )

    # -- verdicts ----------------------------------------------------------------------------
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaces_verdict', sa.Boolean(), server_default=sa.false(), nullable=False))

    # -- stories and "what would change it" --------------------------------------------------
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('what_would_change', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_claims_story'), ['story'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_story'))
        batch_op.drop_column('what_would_change')
        batch_op.drop_column('story')

    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.drop_column('replaces_verdict')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reports_independent_not_inferred'), type_='check')
        batch_op.drop_constraint(op.f('ck_reports_inferred_has_cites'), type_='check')
        batch_op.drop_column('independent')
        batch_op.drop_column('cites_inferred')

    outlets = sa.table('outlets', sa.column('kind', sa.String()), sa.column('prior_reliability', sa.Float()))
    op.execute(
        outlets.update()
        .where(outlets.c.prior_reliability.is_(None))
        .values(
            prior_reliability=sa.case(
                *((outlets.c.kind == kind, prior) for kind, prior in KIND_PRIORS.items()),
                else_=DEFAULT_PRIOR,
            )
        )
    )
    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outlets_prior_reliability_range'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outlets_prior_reliability_range'),
            'prior_reliability > 0 AND prior_reliability < 1',
        )
        batch_op.alter_column('prior_reliability', existing_type=sa.Float(), nullable=False)
        batch_op.drop_column('vetted')

    with op.batch_alter_table('outlet_domains', schema=None) as batch_op:
        batch_op.drop_index('ix_outlet_domains_outlet_id')
    op.drop_table('outlet_domains')

    with op.batch_alter_table('outlet_aliases', schema=None) as batch_op:
        batch_op.drop_index('ix_outlet_aliases_outlet_id')
    op.drop_table('outlet_aliases')
