"""Response dicts come from the application layer (assist.views), shared with the chat."""
from assist.views import (DETAIL_FIELDS, city_out, coverage_reason_zh, hospital_out, policy_out,  # noqa: F401
                          service_detail, service_summary, source_out, ticket_out)
