from odoo.addons.opportunity_registration.models.crm_lead_stage_history import (
    HISTORY_BACKFILL_LOCK,
    HISTORY_BACKFILL_PARAM,
    HISTORY_BACKFILL_START_PARAM,
)
from odoo.tests import Form, tagged, users
from odoo.tools import SQL

from .common_stage import StageControlCase

COLUMNS = (
    "lead_id, stage_id, previous_stage_id, next_stage_id, date_in, date_out, days_in_stage, "
    "is_passed, is_first_entry, stage_passed, lead_won, lead_open, moved_by_id, "
    "salesperson_id, team_id, company_id"
)


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageHistoryBackfill(StageControlCase):
    """The stage history of the opportunities that existed at install is
    filled after it, in batches, by a scheduled action."""

    def setUp(self):
        super().setUp()
        self.Param = self.env["ir.config_parameter"].sudo()
        self.leads = self._existing_leads()
        # out of a cron worker, the job commits after each batch: not in a test
        self.patch(self.registry["ir.cron"], "_commit_progress", lambda cron, *a, **kw: 1.0)

    def _existing_leads(self):
        """Seven opportunities as an install finds them: tracked moves (forward,
        back, skipped stages, won), or none; no history yet."""
        leads = self._new_leads(7)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id IN %s",
            (self._day(0), self._day(1), tuple(leads.ids)),
        )
        leads.invalidate_recordset()
        s1, s2, s3, s4, s5 = self.stages
        self._track(leads[0], [(2, s1, s2), (5, s2, s1), (6, s1, s3)])
        self._track(leads[1], [(3, s1, s2), (4, s2, s3), (9, s3, s4)])
        self._track(leads[3], [(1, s1, s5)])
        self._track(leads[5], [(2, s1, s3), (7, s3, s2)])
        self._track(leads[6], [(4, s1, s4)])
        leads[0].stage_id = s3
        leads[1].stage_id = s4
        leads[3].action_set_won()
        leads[4].active = False
        leads[5].stage_id = s2
        leads[6].stage_id = s4
        self.env.flush_all()
        self._history(leads).unlink()
        return leads

    def _rows(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM crm_lead_stage_history WHERE lead_id IN %s "
                "ORDER BY lead_id, date_in, id",
                SQL(COLUMNS),
                tuple(self.leads.ids),
            )
        )
        return self.env.cr.fetchall()

    def _mark_pending(self):
        below = max(self.leads.ids) + 1
        self.Param.set_param(HISTORY_BACKFILL_PARAM, below)
        self.Param.set_param(HISTORY_BACKFILL_START_PARAM, below)
        return below

    def _run_cron(self, batch_size, stop_below=None):
        """Run the job as the cron worker would; ``stop_below``: the worker's
        time is over once the job has gone below this id."""
        batches = []

        def commit_progress(cron, processed=0, remaining=None, **kwargs):
            below = self.History._backfill_below()
            batches.append((below, len(self._history(self.leads).lead_id)))
            return 0 if stop_below and below < stop_below else 1.0

        self.patch(self.registry["ir.cron"], "_commit_progress", commit_progress)
        self.History._cron_backfill_stage_history(batch_size=batch_size)
        return batches

    def test_batches_fill_the_same_rows_as_one_statement(self):
        count = self.History._backfill_from_tracking()
        expected = self._rows()
        self.assertGreaterEqual(count, len(expected))
        self.assertGreater(len(expected), 14, "tracked moves and untracked leads")
        self._history(self.leads).unlink()

        below = self._mark_pending()
        batches = self._run_cron(batch_size=2, stop_below=min(self.leads.ids))
        self.assertEqual(self._rows(), expected)
        # one id range per transaction, downwards: (still to do below, leads filled)
        self.assertEqual(
            batches[:4], [(below - 2, 2), (below - 4, 4), (below - 6, 6), (below - 8, 7)]
        )

        # idempotent: run again over the same ranges, nothing is added
        self._mark_pending()
        self._run_cron(batch_size=3, stop_below=min(self.leads.ids))
        self.assertEqual(self._rows(), expected)
        self.assertEqual(
            self.History._backfill_from_tracking(low=0, high=max(self.leads.ids) + 1), 0
        )

    def test_the_cron_comes_back_until_done(self):
        self.History._backfill_from_tracking()
        expected = self._rows()
        self._history(self.leads).unlink()
        self._mark_pending()
        cron = self.env.ref("opportunity_registration.ir_cron_stage_history_backfill")
        self.assertEqual(cron.code, "model._cron_backfill_stage_history()")
        self._run_cron(batch_size=3, stop_below=max(self.leads.ids))
        self.assertTrue(self._history(self.leads[-3:]), "the first batch is in")
        self.assertFalse(self._history(self.leads[:-3]), "the worker's time was over")
        self.assertGreater(self.History._backfill_below(), 0)
        self.History._cron_backfill_stage_history(batch_size=100000)
        self.assertEqual(self.History._backfill_below(), 0)
        self.assertEqual(self.History._backfill_progress(), 100)
        self.assertEqual(self._rows(), expected)
        self.assertEqual(self.History._cron_backfill_stage_history(), 0, "nothing left")

    def test_one_batch_at_a_time(self):
        """A second run while a batch is under way leaves it to the first."""
        self._mark_pending()
        with self.registry.cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", [HISTORY_BACKFILL_LOCK])
            self.assertIsNone(self.History._cron_backfill_stage_history(batch_size=2))
            other.rollback()
        self.assertFalse(self._rows())

    def test_install_leaves_the_history_to_the_cron(self):
        self.env["ir.cron.trigger"].search([]).unlink()
        below = self.History._backfill_start()
        self.assertGreaterEqual(below, max(self.leads.ids) + 1)
        self.assertFalse(self._rows(), "no history written by the install")
        cron = self.env.ref("opportunity_registration.ir_cron_stage_history_backfill")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))

    def test_reports_say_while_incomplete(self):
        self.assertFalse(self.History._backfill_note())
        action = self.env.ref("opportunity_registration.crm_stage_funnel_analysis_menu_action")
        self.assertEqual(action.run()["res_model"], "crm.stage.funnel.analysis")

        below = self._mark_pending()
        self.Param.set_param(HISTORY_BACKFILL_START_PARAM, 4 * below)
        self.assertEqual(self.History._backfill_progress(), 75)
        note = self.History._backfill_note()
        self.assertIn(
            "Stage history is still being filled in from past stage changes: 75% done", note
        )
        for xmlid, model in (
            ("crm_stage_funnel_analysis_menu_action", "crm.stage.funnel.analysis"),
            ("crm_lead_stage_history_menu_action", "crm.lead.stage.history"),
        ):
            result = self.env.ref("opportunity_registration." + xmlid).run()
            self.assertEqual(result["tag"], "display_notification")
            self.assertEqual(result["params"]["message"], note)
            self.assertEqual(result["params"]["next"]["res_model"], model)
        funnel = self.env["crm.stage.funnel"].with_user(self.user_manager).create({})
        self.assertEqual(funnel.history_note, note)

        self.History._cron_backfill_stage_history(batch_size=100000)
        self.assertFalse(self.History._backfill_note())
        self.assertFalse(self.env["crm.stage.funnel"].create({}).history_note)

    @users("opreg_stage_rep")
    def test_moving_an_opportunity_not_filled_yet_keeps_its_past(self):
        """A rep moves an opportunity the backfill has not reached: its past
        stays are written first, then the move."""
        self.History.sudo()._backfill_from_tracking()
        expected = self._rows()
        self._history(self.leads).sudo().unlink()
        self._mark_pending()
        lead = self.leads[0].with_env(self.env)
        with Form(lead) as form:
            form.stage_id = self.stage_4
        stays = self._history(lead).sudo()
        self.assertEqual(
            [(h.stage_id, h.date_out is False) for h in stays],
            [
                (self.stage_1, False),
                (self.stage_2, False),
                (self.stage_1, False),
                (self.stage_3, False),
                (self.stage_4, True),
            ],
        )
        self.assertTrue(stays[-2].is_passed)
        # the backfill then leaves it alone and fills the others as before
        self.History.sudo()._cron_backfill_stage_history(batch_size=100000)
        rows = self._rows()
        others = [row for row in rows if row[0] != lead.id]
        self.assertEqual(others, [row for row in expected if row[0] != lead.id])
        self.assertEqual(len([row for row in rows if row[0] == lead.id]), 5)
