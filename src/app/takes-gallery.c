/* takes-gallery.c: the grid of takes, with search, filters and bulk actions. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "takes-backend-registry.h"
#include "takes-gallery.h"

struct _TakesGallery
{
  GtkWidget parent_instance;

  GtkSearchEntry *search_entry;
  GtkMenuButton *filter_button;
  GtkDropDown *decision_dropdown;
  GtkDropDown *rating_dropdown;
  GtkDropDown *tag_dropdown;
  GtkDropDown *shot_dropdown;
  GtkDropDown *backend_dropdown;
  GtkDropDown *sort_dropdown;
  GtkStack *stack;
  GtkGridView *grid;
  AdwStatusPage *no_results_page;
  GtkLabel *count_label;

  TakesStore *store;
  TakesThumbnailCache *thumbnails;
  TakesTakeList *list;
  GtkMultiSelection *selection;
  GHashTable *cards;     /* take id → Card bound to it, for edits shown before they are stored */
  GtkBitset *kept;       /* selected positions whose items the list is replacing in place */
  GArray *reselect;      /* Reselect: takes selected before a reload, found again as pages arrive */
  gint64 pending_select; /* a take to select once the first page has arrived, or 0 */
  GStrv tags;            /* the tag dropdown's entries after "All tags" */
  GArray *shot_ids;      /* gint64, the shot dropdown's entries after "All shots" */
  GCancellable *cancellable;
  TakesTake *selected_take;
  GSettings *settings;
  TakesQueue *queue;
  gint64 project_id;
  guint n_selected;
  gboolean filling;
};

G_DEFINE_FINAL_TYPE (TakesGallery, takes_gallery, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_SELECTED_TAKE,
  PROP_N_SELECTED,
  N_PROPS
};

enum
{
  SIGNAL_TAKE_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef struct
{
  guint position;
  gint64 take_id;
} Reselect;

/* Cards ----------------------------------------------------------------- */

typedef struct
{
  GtkPicture *picture;
  GtkLabel *badge;
  GtkInscription *caption;
  GtkLabel *rating;
  GCancellable *cancellable;
  gint64 take_id;
  TakesJob *job; /* while the take is queued or running */
  gulong job_handler;
  gboolean shows_decision; /* a finished take of a real model: its badge is its decision */
  /* Tooltips are asked for when shown: setting one on a widget makes GTK
   * ask the display where the pointer is, a round trip on every bind. */
  char *caption_tooltip;
  char *badge_tooltip;
} Card;

static void
set_tooltip (char **field, const char *text)
{
  g_free (*field);
  *field = g_strdup (text);
}

static gboolean
query_tooltip (const char *text, GtkTooltip *tooltip)
{
  if (text == NULL || *text == '\0')
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static gboolean
caption_query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, Card *card)
{
  return query_tooltip (card->caption_tooltip, tooltip);
}

static gboolean
badge_query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, Card *card)
{
  return query_tooltip (card->badge_tooltip, tooltip);
}

static void
card_clear_job (Card *card)
{
  if (card->job != NULL)
    g_signal_handler_disconnect (card->job, card->job_handler);
  card->job_handler = 0;
  g_clear_object (&card->job);
}

static void
card_free (Card *card)
{
  card_clear_job (card);
  g_cancellable_cancel (card->cancellable);
  g_clear_object (&card->cancellable);
  g_free (card->caption_tooltip);
  g_free (card->badge_tooltip);
  g_free (card);
}

/* A storyboard shot takes the dragged card's take id. */
static GdkContentProvider *
drag_prepare_cb (GtkDragSource *source, double x, double y, Card *card)
{
  if (card->take_id == 0)
    return NULL;
  return gdk_content_provider_new_typed (G_TYPE_INT64, card->take_id);
}

static void
drag_begin_cb (GtkDragSource *source, GdkDrag *drag, Card *card)
{
  GdkPaintable *paintable = gtk_picture_get_paintable (card->picture);

  if (paintable != NULL)
    gtk_drag_source_set_icon (source, paintable, 0, 0);
}

static void
setup_card_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesGallery *self)
{
  GtkDragSource *drag;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  Card *card = g_new0 (Card, 1);
  int size = self->thumbnails != NULL ? takes_thumbnail_cache_get_size (self->thumbnails) : 192;

  gtk_widget_add_css_class (box, "take-card");
  card->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_content_fit (card->picture, GTK_CONTENT_FIT_COVER);
  gtk_picture_set_can_shrink (card->picture, TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (card->picture), size, size * 9 / 16);
  gtk_widget_add_css_class (GTK_WIDGET (card->picture), "thumbnail");
  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (card->picture));

  card->badge = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_halign (GTK_WIDGET (card->badge), GTK_ALIGN_START);
  gtk_widget_set_valign (GTK_WIDGET (card->badge), GTK_ALIGN_START);
  gtk_widget_add_css_class (GTK_WIDGET (card->badge), "badge");
  gtk_widget_set_has_tooltip (GTK_WIDGET (card->badge), TRUE);
  g_signal_connect (card->badge, "query-tooltip", G_CALLBACK (badge_query_tooltip_cb), card);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), GTK_WIDGET (card->badge));
  gtk_box_append (GTK_BOX (box), overlay);

  /* An inscription, not a label: its size comes from its character counts,
   * not from its text, so a bind while scrolling lays the text out once,
   * at the card's width, instead of measuring it first. */
  card->caption = GTK_INSCRIPTION (gtk_inscription_new (NULL));
  gtk_inscription_set_text_overflow (card->caption, GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_min_chars (card->caption, 1);
  gtk_inscription_set_nat_chars (card->caption, 1);
  gtk_inscription_set_min_lines (card->caption, 1);
  gtk_inscription_set_nat_lines (card->caption, 1);
  gtk_inscription_set_xalign (card->caption, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (card->caption), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (card->caption), "caption");
  gtk_widget_set_has_tooltip (GTK_WIDGET (card->caption), TRUE);
  g_signal_connect (card->caption, "query-tooltip", G_CALLBACK (caption_query_tooltip_cb), card);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (card->caption));
  card->rating = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (card->rating), "rating");
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (card->rating));
  gtk_box_append (GTK_BOX (box), bottom);

  g_object_set_data_full (G_OBJECT (box), "takes-card", card, (GDestroyNotify)card_free);
  gtk_list_item_set_child (item, box);

  drag = gtk_drag_source_new ();
  gtk_drag_source_set_actions (drag, GDK_ACTION_COPY);
  g_signal_connect (drag, "prepare", G_CALLBACK (drag_prepare_cb), card);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), card);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (drag));
}

static void
thumbnail_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GtkWidget) box = user_data;
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  Card *card;

  texture = takes_thumbnail_cache_load_finish (TAKES_THUMBNAIL_CACHE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  card = g_object_get_data (G_OBJECT (box), "takes-card");
  if (card == NULL)
    return;
  if (texture != NULL)
    gtk_picture_set_paintable (card->picture, GDK_PAINTABLE (texture));
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (card->picture), error->message);
}

static char *
format_stars (guint rating)
{
  GString *stars = g_string_new (NULL);

  for (guint i = 0; i < rating; i++)
    g_string_append (stars, "★");
  return g_string_free (stars, FALSE);
}

static TakesJob *
find_job (TakesGallery *self, gint64 take_id)
{
  GListModel *jobs;

  if (self->queue == NULL)
    return NULL;
  /* The queue lists unfinished and recently finished jobs: a few hundred at
   * most, and only cards of queued, running or failed takes ask. */
  jobs = takes_queue_get_jobs (self->queue);
  for (guint i = 0; i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (jobs, i);

      if (takes_job_get_take_id (job) == take_id)
        return g_steal_pointer (&job);
    }
  return NULL;
}

static void
update_job_badge (Card *card)
{
  TakesJob *job = card->job;
  g_autofree char *text = NULL;

  if (job == NULL || takes_job_get_state (job) != TAKES_JOB_STATE_RUNNING)
    return;
  if (takes_job_get_has_progress (job))
    /* Translators: a badge on a take being made; %.0f is the percentage done. */
    text = g_strdup_printf (_ ("Running %.0f %%"), takes_job_get_progress (job) * 100);
  else
    text = g_strdup (_ ("Running"));
  gtk_label_set_text (card->badge, text);
  set_tooltip (&card->badge_tooltip, takes_job_get_stage (job));
}

static void
job_notify_cb (TakesJob *job, GParamSpec *pspec, Card *card)
{
  update_job_badge (card);
}

static void
clear_badge (Card *card)
{
  GtkWidget *badge = GTK_WIDGET (card->badge);

  gtk_widget_remove_css_class (badge, "queued");
  gtk_widget_remove_css_class (badge, "running");
  gtk_widget_remove_css_class (badge, "failed");
  gtk_widget_remove_css_class (badge, "noise");
  gtk_widget_remove_css_class (badge, "approved");
  gtk_widget_remove_css_class (badge, "rejected");
  set_tooltip (&card->badge_tooltip, NULL);
}

static void
show_badge (Card *card, const char *text, const char *style)
{
  gtk_label_set_text (card->badge, text);
  gtk_widget_set_visible (GTK_WIDGET (card->badge), text != NULL);
  if (style != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (card->badge), style);
}

static void
set_decision_badge (Card *card, TakesDecision decision)
{
  if (!card->shows_decision)
    return;
  clear_badge (card);
  if (decision == TAKES_DECISION_APPROVED)
    show_badge (card, _ ("Approved"), "approved");
  else if (decision == TAKES_DECISION_REJECTED)
    show_badge (card, _ ("Rejected"), "rejected");
  else
    show_badge (card, NULL, NULL);
}

static void
set_badge (Card *card, TakesTake *take)
{
  const char *text = NULL;
  const char *style = NULL;

  clear_badge (card);
  card->shows_decision = FALSE;

  switch (takes_take_get_status (take))
    {
      case TAKES_TAKE_STATUS_QUEUED:
        text = _ ("Queued");
        style = "queued";
        break;
      case TAKES_TAKE_STATUS_RUNNING:
        text = _ ("Running");
        style = "running";
        break;
      case TAKES_TAKE_STATUS_FAILED:
        text = _ ("Failed");
        style = "failed";
        set_tooltip (&card->badge_tooltip, takes_take_get_notes (take));
        break;
      case TAKES_TAKE_STATUS_CANCELLED:
        text = _ ("Cancelled");
        style = "failed";
        break;
      case TAKES_TAKE_STATUS_DONE:
      default:
        if (takes_take_get_is_tiny (take))
          {
            /* Translators: the badge on takes made by the random-weight test model. */
            text = _ ("Test model noise");
            style = "noise";
            set_tooltip (&card->badge_tooltip,
                         _ ("Made by the tiny test model, whose weights are random: "
                            "the video is noise and shows only that generation works."));
          }
        else
          {
            card->shows_decision = TRUE;
            set_decision_badge (card, takes_take_get_decision (take));
            return;
          }
        break;
    }

  show_badge (card, text, style);
}

/* A card has room for a few words of the prompt. Pango shapes a whole
 * paragraph before it ellipsizes it, so a prompt of a few hundred
 * characters would cost that much shaping on every bind while scrolling:
 * the caption gets the first line, cut at CAPTION_MAX_CHARS and marked with
 * an ellipsis (the tooltip has the whole prompt). */
#define CAPTION_MAX_CHARS 48

static void
set_caption (Card *card, const char *prompt)
{
  const char *end = prompt;
  glong n = 0;

  while (*end != '\0' && *end != '\n' && n < CAPTION_MAX_CHARS)
    {
      end = g_utf8_next_char (end);
      n++;
    }
  if (*end == '\0')
    {
      gtk_inscription_set_text (card->caption, prompt);
      return;
    }
  {
    g_autofree char *line = g_strdup_printf ("%.*s…", (int)(end - prompt), prompt);

    gtk_inscription_set_text (card->caption, line);
  }
}

static void
bind_card_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesGallery *self)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  Card *card = g_object_get_data (G_OBJECT (box), "takes-card");
  TakesTake *take = gtk_list_item_get_item (item);
  g_autofree char *stars = NULL;
  GdkTexture *texture;

  if (take == NULL)
    return;

  /* Its page is on the way: an empty card of the same size, filled in when
   * the list replaces the item. */
  if (takes_take_list_is_placeholder (take))
    {
      gtk_widget_add_css_class (box, "placeholder");
      gtk_inscription_set_text (card->caption, NULL);
      set_tooltip (&card->caption_tooltip, NULL);
      gtk_label_set_text (card->rating, NULL);
      gtk_widget_set_visible (GTK_WIDGET (card->badge), FALSE);
      gtk_picture_set_paintable (card->picture, NULL);
      return;
    }
  gtk_widget_remove_css_class (box, "placeholder");

  card->take_id = takes_take_get_id (take);
  /* Replaced, key included: the key lives in the card that shows the take. */
  g_hash_table_replace (self->cards, &card->take_id, card);
  set_caption (card, takes_take_get_prompt (take));
  set_tooltip (&card->caption_tooltip, takes_take_get_prompt (take));
  stars = format_stars (takes_take_get_rating (take));
  gtk_label_set_text (card->rating, stars);
  card_clear_job (card);
  if (takes_take_get_status (take) == TAKES_TAKE_STATUS_QUEUED
      || takes_take_get_status (take) == TAKES_TAKE_STATUS_RUNNING
      || takes_take_get_status (take) == TAKES_TAKE_STATUS_FAILED)
    card->job = find_job (self, card->take_id);
  set_badge (card, take);
  if (card->job != NULL)
    {
      card->job_handler = g_signal_connect (card->job, "notify", G_CALLBACK (job_notify_cb), card);
      update_job_badge (card);
    }

  texture = self->thumbnails != NULL ? takes_thumbnail_cache_lookup (self->thumbnails, card->take_id) : NULL;
  gtk_picture_set_paintable (card->picture, GDK_PAINTABLE (texture));
  if (texture == NULL && self->thumbnails != NULL && takes_take_get_media_path (take) != NULL)
    {
      g_autofree char *media = takes_store_get_media_file (self->store, take);

      card->cancellable = g_cancellable_new ();
      takes_thumbnail_cache_load_async (self->thumbnails, card->take_id, media, card->cancellable,
                                        thumbnail_loaded_cb, g_object_ref (box));
    }
}

static void
unbind_card_cb (GtkSignalListItemFactory *factory, GtkListItem *item, TakesGallery *self)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  Card *card = g_object_get_data (G_OBJECT (box), "takes-card");

  g_cancellable_cancel (card->cancellable);
  g_clear_object (&card->cancellable);
  card_clear_job (card);
  gtk_picture_set_paintable (card->picture, NULL);
  if (card->take_id != 0 && g_hash_table_lookup (self->cards, &card->take_id) == card)
    g_hash_table_remove (self->cards, &card->take_id);
  card->take_id = 0;
}

/* Filters --------------------------------------------------------------- */

static const guint decision_masks[] = {
  0,
  1 << TAKES_DECISION_APPROVED,
  1 << TAKES_DECISION_REJECTED,
  1 << TAKES_DECISION_NONE,
};

static const struct
{
  TakesTakeSort sort;
  gboolean ascending;
} sort_orders[] = {
  { TAKES_TAKE_SORT_CREATED, FALSE }, { TAKES_TAKE_SORT_CREATED, TRUE },   { TAKES_TAKE_SORT_RATING, FALSE },
  { TAKES_TAKE_SORT_UPDATED, FALSE }, { TAKES_TAKE_SORT_DURATION, FALSE },
};

static const char *
selected_backend (TakesGallery *self)
{
  guint backend = gtk_drop_down_get_selected (self->backend_dropdown);
  const char *const *ids = takes_backend_registry_list_ids ();

  if (backend == 0 || backend == GTK_INVALID_LIST_POSITION || backend - 1 >= g_strv_length ((char **)ids))
    return NULL;
  return ids[backend - 1];
}

static void
update_view (TakesGallery *self)
{
  guint n = self->list != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->list)) : 0;
  const GError *error = self->list != NULL ? takes_take_list_get_error (self->list) : NULL;
  g_autofree char *count = NULL;

  if (error != NULL)
    {
      adw_status_page_set_title (self->no_results_page, _ ("The Library Could Not Be Read"));
      adw_status_page_set_description (self->no_results_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "no-results");
    }
  else if (n > 0)
    gtk_stack_set_visible_child_name (self->stack, "grid");
  else if (self->list != NULL && *gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) == '\0'
           && gtk_drop_down_get_selected (self->decision_dropdown) == 0
           && gtk_drop_down_get_selected (self->rating_dropdown) == 0
           && gtk_drop_down_get_selected (self->tag_dropdown) == 0
           && gtk_drop_down_get_selected (self->shot_dropdown) == 0 && selected_backend (self) == NULL)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else
    {
      adw_status_page_set_title (self->no_results_page, _ ("No Matching Takes"));
      adw_status_page_set_description (self->no_results_page,
                                       _ ("No take matches the search and the filters. Try other words or "
                                          "clear a filter."));
      gtk_stack_set_visible_child_name (self->stack, "no-results");
    }

  count = g_strdup_printf (ngettext ("%u take", "%u takes", n), n);
  gtk_label_set_text (self->count_label, count);
}

static void
update_actions (TakesGallery *self)
{
  g_autoptr (GtkBitset) selected = NULL;
  gboolean any = FALSE;

  if (self->selection != NULL)
    {
      selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
      any = !gtk_bitset_is_empty (selected);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.rate", any);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.approve", any);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.reject", any);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.add-tag", any);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.tag-selected", any);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.delete", any);
}

static void
set_selected_take (TakesGallery *self, TakesTake *take)
{
  if (self->selected_take == take)
    return;
  g_set_object (&self->selected_take, take);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_TAKE]);
}

static void
selection_changed_cb (GtkSelectionModel *model, guint position, guint n_items, TakesGallery *self)
{
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (model);
  g_autoptr (TakesTake) take = NULL;

  guint n = (guint)MIN (gtk_bitset_get_size (selected), G_MAXUINT);

  if (!gtk_bitset_is_empty (selected))
    take = g_list_model_get_item (G_LIST_MODEL (model), gtk_bitset_get_maximum (selected));
  /* While the selection waits for its pages, the inspector keeps showing
   * the take it had rather than blinking empty. */
  if (!((take != NULL && takes_take_list_is_placeholder (take)) || (take == NULL && self->reselect->len > 0)))
    set_selected_take (self, take);
  update_actions (self);
  if (self->n_selected != n)
    {
      self->n_selected = n;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SELECTED]);
    }
}

static void filters_changed_cb (TakesGallery *self);

static void
fill_tag_dropdown (TakesGallery *self)
{
  g_autoptr (GtkStringList) strings = gtk_string_list_new (NULL);
  g_autoptr (GError) error = NULL;
  guint selected = gtk_drop_down_get_selected (self->tag_dropdown);
  g_autofree char *current = NULL;
  guint keep = 0;

  if (self->tags != NULL && selected != GTK_INVALID_LIST_POSITION && selected > 0
      && selected - 1 < g_strv_length (self->tags))
    current = g_strdup (self->tags[selected - 1]);

  gtk_string_list_append (strings, _ ("All tags"));
  g_clear_pointer (&self->tags, g_strfreev);
  if (self->store != NULL)
    self->tags = takes_store_list_tags (self->store, &error);
  for (guint i = 0; self->tags != NULL && self->tags[i] != NULL; i++)
    {
      gtk_string_list_append (strings, self->tags[i]);
      if (g_strcmp0 (self->tags[i], current) == 0)
        keep = i + 1;
    }
  /* New tags must not reset the tag being filtered on. */
  self->filling = TRUE;
  gtk_drop_down_set_model (self->tag_dropdown, G_LIST_MODEL (strings));
  gtk_drop_down_set_selected (self->tag_dropdown, keep);
  self->filling = FALSE;
  if (current != NULL && keep == 0)
    filters_changed_cb (self);
}

static void
fill_shot_dropdown (TakesGallery *self)
{
  g_autoptr (GtkStringList) strings = gtk_string_list_new (NULL);
  g_autoptr (GPtrArray) shots = NULL;
  g_autoptr (GError) error = NULL;

  gtk_string_list_append (strings, _ ("All shots"));
  g_array_set_size (self->shot_ids, 0);
  if (self->store != NULL && self->project_id != 0)
    shots = takes_store_list_shots (self->store, self->project_id, &error);
  for (guint i = 0; shots != NULL && i < shots->len; i++)
    {
      TakesShot *shot = g_ptr_array_index (shots, i);
      g_autofree char *label = g_strdup_printf (_ ("Shot %u: %s"), shot->position, shot->title);

      gtk_string_list_append (strings, label);
      g_array_append_val (self->shot_ids, shot->id);
    }
  gtk_drop_down_set_model (self->shot_dropdown, G_LIST_MODEL (strings));
  gtk_widget_set_sensitive (GTK_WIDGET (self->shot_dropdown), self->shot_ids->len > 0);
}

static void
fill_backend_dropdown (TakesGallery *self)
{
  g_autoptr (GtkStringList) strings = gtk_string_list_new (NULL);
  guint selected = gtk_drop_down_get_selected (self->backend_dropdown);

  gtk_string_list_append (strings, _ ("All backends"));
  for (const char *const *id = takes_backend_registry_list_ids (); *id != NULL; id++)
    {
      TakesBackend *backend = self->queue != NULL ? takes_queue_lookup_backend (self->queue, *id) : NULL;

      gtk_string_list_append (strings, backend != NULL ? takes_backend_get_display_name (backend) : *id);
    }
  self->filling = TRUE;
  gtk_drop_down_set_model (self->backend_dropdown, G_LIST_MODEL (strings));
  gtk_drop_down_set_selected (self->backend_dropdown, selected != GTK_INVALID_LIST_POSITION ? selected : 0);
  self->filling = FALSE;
}

static void
filters_changed_cb (TakesGallery *self)
{
  guint decision = gtk_drop_down_get_selected (self->decision_dropdown);
  guint rating = gtk_drop_down_get_selected (self->rating_dropdown);
  guint tag = gtk_drop_down_get_selected (self->tag_dropdown);
  guint shot = gtk_drop_down_get_selected (self->shot_dropdown);
  guint sort = gtk_drop_down_get_selected (self->sort_dropdown);
  gboolean filtered;

  if (self->list == NULL || self->filling)
    return;

  g_object_freeze_notify (G_OBJECT (self->list));
  takes_take_list_set_decision_mask (self->list,
                                     decision < G_N_ELEMENTS (decision_masks) ? decision_masks[decision] : 0);
  takes_take_list_set_min_rating (self->list, rating != GTK_INVALID_LIST_POSITION ? rating : 0);
  takes_take_list_set_tag (self->list, tag > 0 && self->tags != NULL && tag - 1 < g_strv_length (self->tags)
                                           ? self->tags[tag - 1]
                                           : NULL);
  takes_take_list_set_shot_id (self->list, shot > 0 && shot - 1 < self->shot_ids->len
                                               ? g_array_index (self->shot_ids, gint64, shot - 1)
                                               : 0);
  takes_take_list_set_backend (self->list, selected_backend (self));
  if (sort < G_N_ELEMENTS (sort_orders))
    takes_take_list_set_sort (self->list, sort_orders[sort].sort, sort_orders[sort].ascending);
  g_object_thaw_notify (G_OBJECT (self->list));

  filtered = (decision > 0 && decision != GTK_INVALID_LIST_POSITION)
             || (rating > 0 && rating != GTK_INVALID_LIST_POSITION)
             || (tag > 0 && tag != GTK_INVALID_LIST_POSITION)
             || (shot > 0 && shot != GTK_INVALID_LIST_POSITION) || selected_backend (self) != NULL;
  if (filtered)
    gtk_widget_add_css_class (GTK_WIDGET (self->filter_button), "accent");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->filter_button), "accent");
  update_view (self);
}

static void
sort_selected_cb (TakesGallery *self)
{
  guint sort = gtk_drop_down_get_selected (self->sort_dropdown);

  if (sort < G_N_ELEMENTS (sort_orders))
    g_settings_set_enum (self->settings, "gallery-sort", (int)sort);
}

static void
search_changed_cb (TakesGallery *self)
{
  if (self->list == NULL)
    return;
  takes_take_list_set_text (self->list, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  update_view (self);
}

static void
activate_cb (GtkGridView *grid, guint position, TakesGallery *self)
{
  g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  if (take != NULL)
    g_signal_emit (self, signals[SIGNAL_TAKE_ACTIVATED], 0, take);
}

/* Bulk actions ---------------------------------------------------------- */

static void
show_toast (TakesGallery *self, AdwToast *toast)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (g_object_ref_sink (toast));
}

static void
show_error (TakesGallery *self, const GError *error)
{
  AdwToast *toast = adw_toast_new (error->message);

  adw_toast_set_timeout (toast, 0);
  show_toast (self, toast);
}

GArray *
takes_gallery_get_selected_ids (TakesGallery *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GtkBitset) selected = NULL;
  GtkBitsetIter iter;
  guint position;

  g_return_val_if_fail (TAKES_IS_GALLERY (self), ids);
  if (self->selection == NULL)
    return ids;

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

      if (take != NULL && !takes_take_list_is_placeholder (take))
        {
          gint64 id = takes_take_get_id (take);
          g_array_append_val (ids, id);
        }
    }
  return ids;
}

static void
reload_keeping_selection (TakesGallery *self)
{
  g_autoptr (GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  g_autoptr (GArray) reselect = g_array_new (FALSE, FALSE, sizeof (Reselect));
  GtkBitsetIter iter;
  guint position;

  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (self->list), position);

      if (take != NULL && !takes_take_list_is_placeholder (take))
        {
          Reselect r = { position, takes_take_get_id (take) };

          g_array_append_val (reselect, r);
        }
    }
  takes_take_list_reload (self->list);
  /* A change rarely moves takes, so each one is looked for where it was
   * when its page arrives; a take that a filter now hides, or that moved,
   * is left unselected. */
  g_array_set_size (self->reselect, 0);
  g_array_append_vals (self->reselect, reselect->data, reselect->len);
  update_view (self);
}

/* The list replaced the items from @position on: the selected ones were
 * noted before the selection model dropped them, and are selected again. */
static void
list_items_changed_cb (GListModel *list, guint position, guint removed, guint added, TakesGallery *self)
{
  g_autoptr (GtkBitset) selected = NULL;

  if (self->selection == NULL)
    return;
  if (!takes_take_list_is_refreshing (TAKES_TAKE_LIST (list)))
    {
      g_array_set_size (self->reselect, 0);
      return;
    }
  selected
      = gtk_selection_model_get_selection_in_range (GTK_SELECTION_MODEL (self->selection), position, removed);
  gtk_bitset_union (self->kept, selected);
}

static void
list_items_changed_after_cb (GListModel *list, guint position, guint removed, guint added, TakesGallery *self)
{
  g_autoptr (GtkBitset) found = gtk_bitset_new_empty ();

  if (self->selection == NULL || !takes_take_list_is_refreshing (TAKES_TAKE_LIST (list)))
    return;
  for (guint i = 0; i < self->reselect->len;)
    {
      Reselect *r = &g_array_index (self->reselect, Reselect, i);
      g_autoptr (TakesTake) take = NULL;

      if (r->position < position || r->position >= position + added)
        {
          i++;
          continue;
        }
      take = g_list_model_get_item (list, r->position);
      if (take != NULL && takes_take_get_id (take) == r->take_id)
        gtk_bitset_add (found, r->position);
      g_array_remove_index_fast (self->reselect, i);
    }
  gtk_bitset_union (found, self->kept);
  gtk_bitset_remove_all (self->kept);
  if (!gtk_bitset_is_empty (found))
    gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), found, found);

  if (self->pending_select != 0)
    {
      gint64 take_id = self->pending_select;

      self->pending_select = 0;
      takes_gallery_select_take (self, take_id);
    }
}

static void
show_edit (TakesGallery *self, TakesTakeEditKind kind, GArray *ids, guint value)
{
  g_autofree char *stars = kind == TAKES_TAKE_EDIT_RATING ? format_stars (value) : NULL;

  for (guint i = 0; i < ids->len; i++)
    {
      Card *card = g_hash_table_lookup (self->cards, &g_array_index (ids, gint64, i));

      if (card == NULL)
        continue;
      if (kind == TAKES_TAKE_EDIT_RATING)
        gtk_label_set_text (card->rating, stars);
      else if (kind == TAKES_TAKE_EDIT_DECISION && card->job == NULL)
        set_decision_badge (card, (TakesDecision)value);
    }
}

static void
edit_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesGallery) self = user_data;
  g_autoptr (GError) error = NULL;

  /* The list read the takes again either way, so the cards now show what
   * the library holds: the edit, or what was there before it failed. */
  if (!takes_take_list_edit_finish (TAKES_TAKE_LIST (source), result, &error))
    show_error (self, error);
  else
    fill_tag_dropdown (self);
}

/* Shows the edit on the cards at once and stores it on the list's writer. */
static void
edit_selected (TakesGallery *self, TakesTakeEditKind kind, guint value, const char *text)
{
  g_autoptr (GArray) ids = takes_gallery_get_selected_ids (self);

  show_edit (self, kind, ids, value);
  takes_take_list_edit_async (self->list, kind, (const gint64 *)ids->data, ids->len, value, text,
                              self->cancellable, edit_done_cb, g_object_ref (self));
}

static void
rate_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  edit_selected (TAKES_GALLERY (widget), TAKES_TAKE_EDIT_RATING, g_variant_get_uint32 (parameter), NULL);
}

static void
approve_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  edit_selected (TAKES_GALLERY (widget), TAKES_TAKE_EDIT_DECISION, TAKES_DECISION_APPROVED, NULL);
}

static void
reject_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  edit_selected (TAKES_GALLERY (widget), TAKES_TAKE_EDIT_DECISION, TAKES_DECISION_REJECTED, NULL);
}

static void
add_tag_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_autofree char *tag = g_strstrip (g_variant_dup_string (parameter, NULL));

  if (*tag == '\0')
    return;
  edit_selected (TAKES_GALLERY (widget), TAKES_TAKE_EDIT_ADD_TAG, 0, tag);
}

static void
tag_dialog_response_cb (AdwMessageDialog *dialog, const char *response, TakesGallery *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));

  if (g_strcmp0 (response, "tag") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "gallery.add-tag", "s", gtk_editable_get_text (entry));
}

static void
tag_entry_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  g_autofree char *tag = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "tag", *tag != '\0');
}

static void
tag_selected_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesGallery *self = TAKES_GALLERY (widget);
  g_autoptr (GArray) ids = takes_gallery_get_selected_ids (self);
  g_autofree char *body = g_strdup_printf (
      ngettext ("The tag is added to %u selected take.", "The tag is added to %u selected takes.", ids->len),
      ids->len);
  GtkWidget *dialog
      = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _ ("Add a Tag"), body);
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _ ("Tag"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "tag",
                                    _ ("_Add Tag"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "tag", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "tag");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "tag", FALSE);
  g_signal_connect (entry, "changed", G_CALLBACK (tag_entry_changed_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (tag_dialog_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef struct
{
  TakesGallery *self;  /* weak */
  TakesTakeList *list; /* the delete happens even when the window has closed */
  GArray *ids;
  gboolean undone;
} PendingDelete;

static void
pending_delete_free (PendingDelete *pending)
{
  g_clear_weak_pointer (&pending->self);
  g_clear_object (&pending->list);
  g_array_unref (pending->ids);
  g_free (pending);
}

static void
undo_delete_cb (AdwToast *toast, PendingDelete *pending)
{
  pending->undone = TRUE;
}

static void
delete_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr (TakesGallery) self = g_weak_ref_get (ref);
  g_autoptr (GError) error = NULL;

  g_weak_ref_clear (ref);
  g_free (ref);
  /* The list has read the library again, with the takes gone or, after a
   * failure, still there. */
  if (!takes_take_list_delete_finish (TAKES_TAKE_LIST (source), result, &error))
    {
      if (self != NULL)
        show_error (self, error);
      else
        g_message ("%s", error->message);
    }
  if (self != NULL && self->list == TAKES_TAKE_LIST (source))
    update_view (self);
}

static void
delete_dismissed_cb (AdwToast *toast, PendingDelete *pending)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  if (pending->undone)
    {
      g_free (ref);
      return;
    }
  g_weak_ref_init (ref, pending->self);
  takes_take_list_delete_async (pending->list, (const gint64 *)pending->ids->data, pending->ids->len, NULL,
                                delete_done_cb, ref);
}

static void
delete_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TakesGallery *self = TAKES_GALLERY (widget);
  PendingDelete *pending = g_new0 (PendingDelete, 1);
  AdwToast *toast;
  g_autofree char *title = NULL;

  pending->ids = takes_gallery_get_selected_ids (self);
  g_set_weak_pointer (&pending->self, self);
  pending->list = self->list != NULL ? g_object_ref (self->list) : NULL;
  if (pending->ids->len == 0 || pending->list == NULL)
    {
      pending_delete_free (pending);
      return;
    }

  /* The takes go to the trash only when the toast leaves without Undo, so
   * Undo has nothing to restore. */
  title = g_strdup_printf (ngettext ("%u take will be moved to the trash",
                                     "%u takes will be moved to the trash", pending->ids->len),
                           pending->ids->len);
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _ ("_Undo"));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  g_signal_connect (toast, "button-clicked", G_CALLBACK (undo_delete_cb), pending);
  g_signal_connect_data (toast, "dismissed", G_CALLBACK (delete_dismissed_cb), pending,
                         (GClosureNotify)(void (*) (void))pending_delete_free, 0);
  gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
  show_toast (self, toast);
}

static void
focus_search_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_widget_grab_focus (GTK_WIDGET (TAKES_GALLERY (widget)->search_entry));
}

/* GObject --------------------------------------------------------------- */

static void
takes_gallery_dispose (GObject *object)
{
  TakesGallery *self = TAKES_GALLERY (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), TAKES_TYPE_GALLERY);
  /* The template's top box has no id, so dispose_template leaves it. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  g_clear_object (&self->list);
  g_clear_object (&self->store);
  g_clear_object (&self->thumbnails);
  g_clear_pointer (&self->cards, g_hash_table_unref);
  g_clear_pointer (&self->kept, gtk_bitset_unref);
  g_clear_pointer (&self->reselect, g_array_unref);
  g_clear_object (&self->selected_take);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->queue);

  G_OBJECT_CLASS (takes_gallery_parent_class)->dispose (object);
}

static void
takes_gallery_finalize (GObject *object)
{
  TakesGallery *self = TAKES_GALLERY (object);

  g_clear_pointer (&self->tags, g_strfreev);
  g_clear_pointer (&self->shot_ids, g_array_unref);

  G_OBJECT_CLASS (takes_gallery_parent_class)->finalize (object);
}

static void
takes_gallery_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesGallery *self = TAKES_GALLERY (object);

  switch (prop_id)
    {
      case PROP_SELECTED_TAKE:
        g_value_set_object (value, self->selected_take);
        break;
      case PROP_N_SELECTED:
        g_value_set_uint (value, self->n_selected);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_gallery_class_init (TakesGalleryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = takes_gallery_dispose;
  object_class->finalize = takes_gallery_finalize;
  object_class->get_property = takes_gallery_get_property;

  properties[PROP_SELECTED_TAKE]
      = g_param_spec_object ("selected-take", NULL, NULL, TAKES_TYPE_TAKE,
                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_SELECTED]
      = g_param_spec_uint ("n-selected", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_TAKE_ACTIVATED]
      = g_signal_new ("take-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, TAKES_TYPE_TAKE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/takes/Takes/ui/takes-gallery.ui");
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, search_entry);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, filter_button);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, decision_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, rating_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, tag_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, shot_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, backend_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, sort_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, stack);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, grid);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, no_results_page);
  gtk_widget_class_bind_template_child (widget_class, TakesGallery, count_label);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, filters_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, activate_cb);

  gtk_widget_class_install_action (widget_class, "gallery.rate", "u", rate_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.approve", NULL, approve_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.reject", NULL, reject_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.add-tag", "s", add_tag_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.delete", NULL, delete_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.tag-selected", NULL, tag_selected_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.focus-search", NULL, focus_search_action_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "gallery.delete", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "gallery");
}

static void
takes_gallery_init (TakesGallery *self)
{
  GtkListItemFactory *factory;

  self->shot_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->cancellable = g_cancellable_new ();
  self->cards = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->kept = gtk_bitset_new_empty ();
  self->reselect = g_array_new (FALSE, FALSE, sizeof (Reselect));
  gtk_widget_init_template (GTK_WIDGET (self));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_card_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_card_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_card_cb), self);
  gtk_grid_view_set_factory (self->grid, factory);
  g_object_unref (factory);

  fill_tag_dropdown (self);
  fill_shot_dropdown (self);
  fill_backend_dropdown (self);
  update_actions (self);
  update_view (self);

  /* The enum's values are the dropdown's positions (see sort_orders). */
  self->settings = g_settings_new ("io.github.takes.Takes");
  gtk_drop_down_set_selected (self->sort_dropdown,
                              (guint)g_settings_get_enum (self->settings, "gallery-sort"));
  g_signal_connect_object (self->sort_dropdown, "notify::selected", G_CALLBACK (sort_selected_cb), self,
                           G_CONNECT_SWAPPED);
}

GtkWidget *
takes_gallery_new (void)
{
  return g_object_new (TAKES_TYPE_GALLERY, NULL);
}

void
takes_gallery_set_store (TakesGallery *self, TakesStore *store, TakesThumbnailCache *thumbnails)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));

  gtk_grid_view_set_model (self->grid, NULL);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  g_clear_object (&self->selection);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  g_clear_object (&self->list);
  g_hash_table_remove_all (self->cards);
  gtk_bitset_remove_all (self->kept);
  g_array_set_size (self->reselect, 0);
  self->pending_select = 0;
  g_set_object (&self->store, store);
  g_set_object (&self->thumbnails, thumbnails);
  set_selected_take (self, NULL);

  if (store != NULL)
    {
      self->list = takes_take_list_new (store);
      takes_take_list_set_project_id (self->list, self->project_id);
      /* Connected before the selection model connects its own handler, so
       * that the selection in a replaced range is noted before it drops it. */
      g_signal_connect (self->list, "items-changed", G_CALLBACK (list_items_changed_cb), self);
      g_signal_connect_after (self->list, "items-changed", G_CALLBACK (list_items_changed_after_cb), self);
      self->selection = gtk_multi_selection_new (G_LIST_MODEL (g_object_ref (self->list)));
      g_signal_connect (self->selection, "selection-changed", G_CALLBACK (selection_changed_cb), self);
      gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));
    }
  fill_tag_dropdown (self);
  fill_shot_dropdown (self);
  filters_changed_cb (self);
  search_changed_cb (self);
  update_actions (self);
  update_view (self);
}

void
takes_gallery_set_queue (TakesGallery *self, TakesQueue *queue)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));
  g_set_object (&self->queue, queue);
  fill_backend_dropdown (self);
}

TakesTakeList *
takes_gallery_get_list (TakesGallery *self)
{
  g_return_val_if_fail (TAKES_IS_GALLERY (self), NULL);
  return self->list;
}

void
takes_gallery_set_project_id (TakesGallery *self, gint64 project_id)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));
  if (self->project_id == project_id)
    return;
  self->project_id = project_id;
  gtk_drop_down_set_selected (self->shot_dropdown, 0);
  fill_shot_dropdown (self);
  if (self->list != NULL)
    takes_take_list_set_project_id (self->list, project_id);
  update_view (self);
}

void
takes_gallery_set_search_text (TakesGallery *self, const char *text)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  /* GtkSearchEntry delays "search-changed"; callers want the grid now. */
  search_changed_cb (self);
}

void
takes_gallery_reload (TakesGallery *self)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));
  if (self->list == NULL)
    return;
  fill_tag_dropdown (self);
  reload_keeping_selection (self);
}

guint
takes_gallery_get_n_selected (TakesGallery *self)
{
  g_return_val_if_fail (TAKES_IS_GALLERY (self), 0);
  return self->n_selected;
}

void
takes_gallery_set_backend (TakesGallery *self, const char *backend)
{
  const char *const *ids = takes_backend_registry_list_ids ();
  guint position = 0;

  g_return_if_fail (TAKES_IS_GALLERY (self));
  for (guint i = 0; backend != NULL && ids[i] != NULL; i++)
    if (g_str_equal (ids[i], backend))
      position = i + 1;
  gtk_drop_down_set_selected (self->backend_dropdown, position);
}

TakesTake *
takes_gallery_get_selected_take (TakesGallery *self)
{
  g_return_val_if_fail (TAKES_IS_GALLERY (self), NULL);
  return self->selected_take;
}

void
takes_gallery_select_all (TakesGallery *self)
{
  g_return_if_fail (TAKES_IS_GALLERY (self));
  if (self->selection != NULL)
    gtk_selection_model_select_all (GTK_SELECTION_MODEL (self->selection));
}

gboolean
takes_gallery_select_take (TakesGallery *self, gint64 take_id)
{
  int position;

  g_return_val_if_fail (TAKES_IS_GALLERY (self), FALSE);
  if (self->list == NULL)
    return FALSE;
  position = takes_take_list_find_cached (self->list, take_id);
  if (position < 0 && g_list_model_get_n_items (G_LIST_MODEL (self->list)) > 0)
    {
      /* Not on a page read yet: the first page holds the newest takes,
       * which is where a take just made or just clicked in a lineage is.
       * While it is on its way, the take is selected when it arrives. */
      g_autoptr (TakesTake) first = g_list_model_get_item (G_LIST_MODEL (self->list), 0);

      if (takes_take_list_is_placeholder (first))
        {
          self->pending_select = take_id;
          return TRUE;
        }
    }
  if (position < 0)
    return FALSE;
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), position, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (self->grid), "list.scroll-to-item", "u", position);
  return TRUE;
}
