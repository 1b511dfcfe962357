from django.contrib import admin

from .models import Run, RunEvent


class RunEventInline(admin.TabularInline):
    model = RunEvent
    fields = ["seq", "type", "data", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "subject", "status", "percentage", "requested_by", "started_at", "finished_at"]
    list_filter = ["status", "job", "created_at"]
    search_fields = ["subject"]
    list_select_related = ["requested_by"]
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = [RunEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
