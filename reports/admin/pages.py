"""How the report admin's own pages answer: whole pages, or their partial for htmx.

Their context starts from `factually.admin_pages.admin_page_context`.
"""

from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers


def partial_response(request, template: str, context: dict) -> TemplateResponse:
    """The template's partial of the same name for htmx requests, the whole page otherwise."""
    if request.htmx:
        template += "#" + template.rsplit("/", 1)[-1].removesuffix(".html")
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
