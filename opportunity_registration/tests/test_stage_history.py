from freezegun import freeze_time

from odoo.tests import Form, tagged, users

from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageHistory(StageControlCase):
    @users("opreg_stage_rep")
    def test_create_opens_a_stay(self):
        lead = self._new_leads(1)
        stays = self._history(lead)
        self.assertEqual(len(stays), 1)
        self.assertEqual(stays.stage_id, self.stage_1)
        self.assertFalse(stays.previous_stage_id)
        self.assertFalse(stays.date_out)
        self.assertTrue(stays.is_first_entry)
        self.assertEqual(stays.moved_by_id, self.user_rep)
        self.assertEqual(stays.salesperson_id, self.user_rep)
        self.assertEqual(stays.team_id, self.team)
        self.assertEqual(stays.date_in, lead.date_last_stage_update)

    @users("opreg_stage_rep")
    def test_write_closes_and_opens(self):
        lead = self._new_leads(1)
        lead.write({"stage_id": self.stage_2.id})
        lead.write({"stage_id": self.stage_1.id})  # back
        first, second, third = self._history(lead)
        self.assertEqual(
            (first.stage_id, second.stage_id, third.stage_id),
            (self.stage_1, self.stage_2, self.stage_1),
        )
        self.assertTrue(first.date_out)
        self.assertEqual(first.next_stage_id, self.stage_2)
        self.assertTrue(first.is_passed, "S1 -> S2 goes forward")
        self.assertEqual(first.days_in_stage, 0.0)
        self.assertEqual(second.previous_stage_id, self.stage_1)
        self.assertFalse(second.is_passed, "S2 -> S1 goes back")
        self.assertFalse(third.date_out)
        self.assertFalse(third.is_first_entry, "second time in S1")
        # writing the same stage again is no change
        lead.write({"stage_id": self.stage_1.id})
        self.assertEqual(len(self._history(lead)), 3)

    @users("opreg_stage_rep")
    def test_form_change(self):
        lead = self._new_leads(1)
        with Form(lead) as form:
            form.stage_id = self.stage_3
        stays = self._history(lead)
        self.assertEqual(stays.stage_id, self.stage_1 | self.stage_3)
        self.assertEqual(stays[-1].stage_id, self.stage_3)

    def test_batch_write_bounded_queries(self):
        """Moving 50 opportunities costs the same queries as moving 5 (mail
        tracking, per record in stock crm, switched off to measure ours)."""
        self._new_leads(2).write({"stage_id": self.stage_2.id})  # warm the caches
        counts = []
        for size in (5, 50):
            leads = self._new_leads(size).with_context(tracking_disable=True)
            leads.invalidate_recordset()
            self.env.flush_all()
            start = self.env.cr.sql_log_count
            leads.write({"stage_id": self.stage_2.id})
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - start)
            stays = self._history(leads)
            self.assertEqual(
                len(stays.filtered(lambda h: h.stage_id == self.stage_2 and not h.date_out)), size
            )
            self.assertEqual(
                len(stays.filtered(lambda h: h.stage_id == self.stage_1 and h.date_out)), size
            )
        self.assertEqual(counts[0], counts[1])

    def test_batch_write_query_count(self):
        self._new_leads(2).write({"stage_id": self.stage_2.id})  # warm the caches
        leads = self._new_leads(50).with_context(tracking_disable=True)
        leads.invalidate_recordset()
        # 1 read of the leads, 5 of crm (won stages, PLS, stage search, ...),
        # 2 for the history (close the stays, open the new ones), 1 UPDATE
        with self.assertQueryCount(__system__=8):
            leads.write({"stage_id": self.stage_2.id})
        self.assertEqual(len(self._history(leads)), 100)

    @users("opreg_stage_rep")
    def test_import_with_load(self):
        result = self.env["crm.lead"].load(
            ["name", "type", "stage_id/id"],
            [
                ["Imported 1", "opportunity", self._xmlid(self.stage_2)],
                ["Imported 2", "opportunity", self._xmlid(self.stage_3)],
            ],
        )
        self.assertFalse(result["messages"], result["messages"])
        leads = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(self._history(leads).stage_id, self.stage_2 | self.stage_3)
        # re-import moving the first one on
        result = self.env["crm.lead"].load(
            ["id", "stage_id/id"],
            [[self._xmlid(leads[0]), self._xmlid(self.stage_4)]],
        )
        self.assertFalse(result["messages"], result["messages"])
        stays = self._history(leads[0])
        self.assertEqual(stays.mapped("stage_id"), self.stage_2 | self.stage_4)
        self.assertEqual(stays[0].next_stage_id, self.stage_4)

    def _xmlid(self, record):
        return record.sudo()._export_rows([["id"]])[0][0]

    def test_computed_stage_change_team(self):
        """crm recomputes the stage when the team changes: that is logged too."""
        self.stage_1.team_ids = self.team
        lead = self._new_leads(1)
        lead.write({"team_id": self.team2.id})
        new_stage = lead.stage_id
        self.assertNotEqual(new_stage, self.stage_1, "S1 is not a stage of team 2")
        first, second = self._history(lead)
        self.assertEqual((first.stage_id, first.next_stage_id), (self.stage_1, new_stage))
        self.assertEqual((second.stage_id, second.date_out), (new_stage, False))

    def test_won_and_mass_edit(self):
        leads = self._new_leads(3)
        leads[0].action_set_won()
        won_stage = leads[0].stage_id
        self.assertTrue(won_stage.is_won)
        self.assertEqual(self._history(leads[0])[-1].stage_id, won_stage)
        # mass edit from the list view is a write on the selection
        leads[1:].with_context(active_test=False).write({"stage_id": self.stage_4.id})
        self.assertEqual(
            self._history(leads[1:]).filtered(lambda h: not h.date_out).stage_id, self.stage_4
        )

    def test_backfill_from_tracking(self):
        """Install backfill: stays rebuilt from stage tracking values."""
        tracked, untracked = self._new_leads(2)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, date_last_stage_update = %s WHERE id IN %s",
            (self._day(0), self._day(0), (tracked.id, untracked.id)),
        )
        tracked.invalidate_recordset()
        untracked.invalidate_recordset()
        self._history(tracked | untracked).unlink()
        moves = [  # (day, old, new)
            (2, self.stage_1, self.stage_2),
            (5, self.stage_2, self.stage_1),  # back
            (6, self.stage_1, self.stage_3),  # skip forward
        ]
        for message in self._track(tracked, moves):
            self.assertTrue(message.tracking_value_ids)
        tracked.stage_id = self.stage_3  # current stage = last tracked one
        self._history(tracked).unlink()

        count = self.History._backfill_from_tracking()
        self.assertEqual(count, 5)
        s1, s2, s1b, s3 = self._history(tracked)
        self.assertEqual(
            [
                (h.stage_id, h.date_in, h.date_out, h.days_in_stage, h.is_passed, h.is_first_entry)
                for h in (s1, s2, s1b, s3)
            ],
            [
                (self.stage_1, self._day(0), self._day(2), 2.0, True, True),
                (self.stage_2, self._day(2), self._day(5), 3.0, False, True),
                (self.stage_1, self._day(5), self._day(6), 1.0, True, False),
                (self.stage_3, self._day(6), False, 0.0, False, True),
            ],
        )
        self.assertEqual(s2.previous_stage_id, self.stage_1)
        self.assertEqual(s1b.next_stage_id, self.stage_3)
        self.assertEqual(
            [(h.stage_passed, h.lead_won, h.lead_open) for h in (s1, s2, s1b, s3)],
            [(True, False, True), (False, False, True), (False, False, True), (False, False, True)],
            "S1 passed (first entry marked), S2 left backwards",
        )
        (stay,) = self._history(untracked)
        self.assertEqual(
            (stay.stage_id, stay.date_in, stay.date_out), (self.stage_1, self._day(0), False)
        )
        # idempotent: leads with history are left alone
        self.assertEqual(self.History._backfill_from_tracking(), 0)

    def test_clock_going_back(self):
        """A stage change stamped before the stay began (frozen or skewed
        clocks) closes the stay at its start instead of failing."""
        lead = self._new_leads(1)
        with freeze_time("2020-01-01 10:00:00"):
            lead.write({"stage_id": self.stage_2.id})
        first, second = self._history(lead)
        self.assertEqual(first.date_out, first.date_in)
        self.assertEqual(first.days_in_stage, 0.0)
        self.assertEqual(second.stage_id, self.stage_2)

    def test_stage_passed_after_return(self):
        """Created in S2, back to S1, then on to S3: S2 counts as passed."""
        lead = self._new_leads(1, stage=self.stage_2)
        lead.write({"stage_id": self.stage_1.id})
        first_s2 = self._history(lead)[0]
        self.assertFalse(first_s2.stage_passed)
        lead.write({"stage_id": self.stage_2.id})
        lead.write({"stage_id": self.stage_3.id})
        s2, s1, s2_again, s3 = self._history(lead)
        self.assertEqual((s2.stage_passed, s2.is_passed), (True, False))
        self.assertEqual(
            (s2_again.stage_passed, s2_again.is_passed, s2_again.is_first_entry),
            (False, True, False),
        )
        self.assertTrue(s1.stage_passed and s1.is_passed)
        self.assertFalse(s3.date_out)

    def test_lead_status_copied_on_stays(self):
        lead = self._new_leads(1)
        lead.write({"stage_id": self.stage_2.id})
        stays = self._history(lead)
        self.assertEqual(stays.mapped("lead_open"), [True, True])
        lead.action_set_lost()
        self.assertEqual(self._history(lead).mapped("lead_open"), [False, False])
        lead.action_unarchive()
        self.assertEqual(self._history(lead).mapped("lead_open"), [True, True])
        lead.action_set_won()
        stays = self._history(lead)
        self.assertEqual(stays.mapped("lead_won"), [True] * len(stays))
        self.assertEqual(stays.mapped("lead_open"), [False] * len(stays))
