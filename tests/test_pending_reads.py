"""A job read before it finished is an error that says so, never an empty table: a person who runs
the next cell right after answering a form (a front end that returns the cell at once, Run All) gets
``JobPending`` naming what the job waits for, not "0 rows of task_sim_bills"."""

from __future__ import annotations

import asyncio

import pytest

import deck_nb as dn
from deck_nb.notebook import JobPending


@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")
def test_frames_and_downloads_of_an_unfinished_job_raise_job_pending_and_of_a_finished_one_read(sim, tmp_path):
    async def scenario():
        with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
            conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck)
            run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck)
            for read in (dn.outputs_frame, dn.runs_frame, dn.extractions, lambda job: dn.download(job, dir=tmp_path)):
                with pytest.raises(JobPending, match=r"has not finished.*`await` it"):
                    read(run)
            await run
            assert len(dn.outputs_frame(run)) == 2 and len(dn.extractions(run)) == 2
            assert len(dn.download(run, dir=tmp_path)) == 2

    asyncio.run(scenario())
