"""Routes for a finished job's results: the result page, its files (report, annotated video, plots, JSON,
CSV) confined to its results folder, and the report as PDF (Chromium's print-to-PDF of the report page, with
its print CSS)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from balance.assess.catalogue import NOT_JUDGED
from balance.errors import ResultsError
from balance.files import atomic_path
from balance.web import services
from balance.web.deps import JobDep, Jobs, Settings
from balance.web.jobs import Job, JobManager
from balance.web.pages import render
from balance.web.security import result_file
from balance.web.settings import WebSettings

PDF_TIMEOUT_S = 90
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-pdf-header-footer",
)
# The report is one self-contained page: its own inline style and embedded images, nothing else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'; frame-ancestors 'none'"

router = APIRouter()


async def result_page(request: Request, job: Job, jobs: JobManager) -> Response:
    """A done job's page: the document's numbers and words, and links to its files."""
    doc = await run_in_threadpool(services.load_document, jobs.results(job.id))
    files = {p.name for p in jobs.results(job.id).iterdir()}
    return render(request, "result.html", job=job, doc=doc, files=files, not_judged=NOT_JUDGED)


@router.get("/jobs/{job_id}/files/{name:path}")
async def job_file(job: JobDep, jobs: Jobs, name: str) -> Response:
    path = result_file(jobs.results(job.id), name)
    if path is None:
        raise HTTPException(404)
    headers = {"content-security-policy": REPORT_CSP} if name == "report.html" else {}
    download = name.endswith((".json", ".csv"))
    return FileResponse(path, headers=headers, filename=name if download else None)


@router.get("/jobs/{job_id}/report.pdf")
async def report_pdf(job: JobDep, jobs: Jobs, settings: Settings) -> Response:
    report = result_file(jobs.results(job.id), "report.html")
    if report is None:
        raise HTTPException(404)
    pdf = await run_in_threadpool(print_pdf, report, jobs.folder(job.id) / "report.pdf", settings)
    return FileResponse(pdf, media_type="application/pdf", filename="report.pdf")


def print_pdf(report: Path, out: Path, settings: WebSettings) -> Path:
    """The report page printed to PDF by headless Chromium (A4, the report's print CSS); made once per job."""
    if out.is_file():
        return out
    chromium = settings.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise ResultsError(
            "the PDF needs Chromium, which is not installed on the server",
            "Download the report page and print it from the browser, or install chromium (scripts/install_chromium.sh)",
        )
    with tempfile.TemporaryDirectory(prefix="balance-pdf-") as profile, atomic_path(out) as tmp:
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            report.resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ResultsError("Chromium did not print the report in time", "Try again in a minute") from None
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise ResultsError("Chromium could not print the report", "Download the report page and print it instead")
    return out
