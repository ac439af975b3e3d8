/* test-window.c: the studio window on empty and large libraries, with its
 * gallery filters, search, optimizer and screenshots of the main views. */
#include "config.h"

#include "app-test-util.h"
#include "player-test-util.h"
#include "takes-store-review.h"
#include "takes-optimizer-panel.h"
#include "takes-window.h"

/* Until the pages the grid asked for have come from the list's worker. */
static void
wait_for_pages (TakesWindow *window)
{
  TakesTakeList *list = takes_gallery_get_list (takes_window_get_gallery (window));

  while (takes_take_list_get_busy (list))
    g_main_context_iteration (NULL, TRUE);
}

static TakesWindow *
open_window (TakesStore *store)
{
  TakesWindow *window = takes_window_new (NULL, store, NULL);

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_frames (GTK_WIDGET (window), 3);
  wait_for_pages (window);
  /* GTK holds the toplevel's reference; ours lets the test see it finalized. */
  return g_object_ref (window);
}

static void
close_window (TakesWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

static void
test_window_opens_empty (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("empty");
  TakesWindow *window = open_window (store);
  TakesGallery *gallery = takes_window_get_gallery (window);
  GtkWidget *stack;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (takes_gallery_get_list (gallery))), ==, 0);
  g_assert_null (takes_gallery_get_selected_take (gallery));
  /* The first-run page explains the three ways to generate. */
  stack = gtk_widget_get_first_child (gtk_widget_get_first_child (GTK_WIDGET (gallery)));
  while (stack != NULL && !GTK_IS_STACK (stack))
    stack = gtk_widget_get_next_sibling (stack);
  g_assert_nonnull (stack);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (stack)), ==, "empty");

  g_free (app_test_screenshot (GTK_WIDGET (window), "window-empty"));
  close_window (window);
}

static void
test_window_opens_large_library (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("large");
  TakesWindow *window;
  TakesTakeList *list;
  gint64 start;

  start = g_get_monotonic_time ();
  app_test_fill_store (store, 10000);
  g_test_message ("10,000 takes stored in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
  start = g_get_monotonic_time ();
  window = open_window (store);
  list = takes_gallery_get_list (takes_window_get_gallery (window));

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10000);
  /* Only the rows the grid keeps near the screen were read (at most 30
   * rows of 8 columns, which may straddle three pages of 120, and the page
   * after, fetched ahead), never the whole library. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), <=, 4);
  g_test_message ("window with 10,000 takes drawn in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);

  close_window (window);
}

static GtkWidget *
find_grid (GtkWidget *widget)
{
  if (GTK_IS_GRID_VIEW (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_grid (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Cards on screen, and how many of them wait for their page. */
static void
count_cards (GtkWidget *widget, guint *cards, guint *placeholders)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (gtk_widget_has_css_class (widget, "take-card"))
    {
      (*cards)++;
      if (gtk_widget_has_css_class (widget, "placeholder"))
        (*placeholders)++;
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    count_cards (child, cards, placeholders);
}

typedef struct
{
  GtkWidget *window;
  GtkWidget *gallery;
  GtkWidget *grid;
  guint cards;
  guint placeholders;
  gboolean jumped;
  gboolean painted;
} Jump;

/* The jump happens in a frame's update phase, so that frame lays the grid
 * out and paints it with no page delivered in between: what it paints is
 * what a person sees in the moment before the pages come. */
static gboolean
jump_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  Jump *jump = user_data;

  g_assert_true (gtk_widget_activate_action (jump->grid, "list.scroll-to-item", "u", 6000));
  jump->jumped = TRUE;
  return G_SOURCE_REMOVE;
}

static void
after_jump_paint_cb (GdkFrameClock *clock, Jump *jump)
{
  if (!jump->jumped || jump->painted)
    return;
  jump->painted = TRUE;
  count_cards (jump->gallery, &jump->cards, &jump->placeholders);
  g_free (app_test_screenshot (jump->window, "gallery-scrolling"));
}

/* Cards on screen, and how many of them show @stars. */
static void
count_cards_with_rating (GtkWidget *widget, const char *stars, guint *cards, guint *rated)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "rating"))
    {
      (*cards)++;
      if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), stars) == 0)
        (*rated)++;
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    count_cards_with_rating (child, stars, cards, rated);
}

static void
test_window_scrolling_fills_placeholders (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("scrolling");
  Jump jump = { 0 };
  GdkFrameClock *clock;
  gulong handler;
  TakesWindow *window;
  TakesTakeList *list;
  guint cards = 0;
  guint placeholders = 0;
  guint reads;

  app_test_fill_store (store, 10000);
  window = open_window (store);
  jump.window = GTK_WIDGET (window);
  jump.gallery = GTK_WIDGET (takes_window_get_gallery (window));
  jump.grid = find_grid (jump.gallery);
  g_assert_nonnull (jump.grid);
  list = takes_gallery_get_list (TAKES_GALLERY (jump.gallery));
  reads = takes_take_list_get_n_page_reads (list);

  /* A jump far down: the cards are laid out at once, empty until their
   * pages come from the worker. */
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_jump_paint_cb), &jump);
  gtk_widget_add_tick_callback (jump.grid, jump_tick_cb, &jump, NULL);
  while (!jump.painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);
  g_test_message ("%u of %u cards painted after the jump waited for their page", jump.placeholders,
                  jump.cards);
  g_assert_cmpuint (jump.cards, >, 0);
  g_assert_cmpuint (jump.placeholders, ==, jump.cards);

  wait_for_pages (window);
  app_test_wait_frames (GTK_WIDGET (window), 2);
  cards = placeholders = 0;
  count_cards (jump.gallery, &cards, &placeholders);
  g_assert_cmpuint (cards, >, 0);
  g_assert_cmpuint (placeholders, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10000);
  /* The pages around position 6000 and their neighbours, not the 50 in between. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list) - reads, <=, 6);
  g_free (app_test_screenshot (GTK_WIDGET (window), "gallery-scrolled"));
  close_window (window);
}

static void
test_window_filters_and_search_narrow (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("filters");
  TakesWindow *window;
  TakesGallery *gallery;
  TakesTakeList *list;
  guint all;

  app_test_fill_store (store, 400);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  list = takes_gallery_get_list (gallery);
  all = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (all, ==, 400);

  takes_gallery_set_search_text (gallery, "whale");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 100);
  wait_for_pages (window);
  for (guint i = 0; i < 100; i += 17)
    {
      g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), i);
      g_assert_nonnull (strstr (takes_take_get_prompt (take), "whale"));
    }
  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-search"));

  /* Chinese text is found character by character. */
  takes_gallery_set_search_text (gallery, "熊猫");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 100);

  takes_gallery_set_search_text (gallery, "no such words anywhere");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);

  takes_gallery_set_search_text (gallery, "");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, all);

  takes_take_list_set_tag (list, "hero");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, (400 + 6) / 7);
  takes_take_list_set_tag (list, NULL);

  takes_take_list_set_decision_mask (list, 1 << TAKES_DECISION_APPROVED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 20);
  takes_take_list_set_decision_mask (list, 0);

  takes_take_list_set_min_rating (list, 5);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), <, all);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), >, 0);
  takes_take_list_set_min_rating (list, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, all);

  close_window (window);
}

static void
test_window_selection_shows_inspector (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("inspector");
  TakesWindow *window;
  TakesGallery *gallery;
  TakesTake *shown;

  app_test_fill_store (store, 30);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  {
    g_autoptr (TakesTake) first = g_list_model_get_item (G_LIST_MODEL (takes_gallery_get_list (gallery)), 0);
    g_assert_true (takes_gallery_select_take (gallery, takes_take_get_id (first)));
    shown = takes_inspector_get_take (takes_window_get_inspector (window));
    g_assert_nonnull (shown);
    g_assert_cmpint (takes_take_get_id (shown), ==, takes_take_get_id (first));
  }
  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-inspector"));
  close_window (window);
}

/* The inspector's star button for @stars, or the first entry when @stars is 0. */
static GtkWidget *
find_inspector_widget (GtkWidget *widget, guint stars)
{
  if (stars > 0 && GTK_IS_BUTTON (widget)
      && GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (widget), "takes-rating")) == stars)
    return widget;
  if (stars == 0 && GTK_IS_ENTRY (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_inspector_widget (child, stars);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_window_inspector_edits_in_the_background (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("inspector-edits");
  TakesWindow *window;
  TakesGallery *gallery;
  TakesTakeList *list;
  TakesInspector *inspector;
  GtkWidget *star, *entry;
  gint64 id;
  guint reads;

  app_test_fill_store (store, 30);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  list = takes_gallery_get_list (gallery);
  inspector = takes_window_get_inspector (window);
  {
    g_autoptr (TakesTake) first = g_list_model_get_item (G_LIST_MODEL (list), 0);

    id = takes_take_get_id (first);
    g_assert_true (takes_gallery_select_take (gallery, id));
  }
  reads = takes_take_list_get_n_page_reads (list);

  /* Rating and tagging in the inspector are saved by the list's worker... */
  star = find_inspector_widget (GTK_WIDGET (inspector), 3);
  g_assert_nonnull (star);
  g_signal_emit_by_name (star, "clicked");
  g_assert_true (takes_take_list_get_busy (list));
  entry = find_inspector_widget (GTK_WIDGET (inspector), 0);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "keeper");
  g_signal_emit_by_name (entry, "activate");
  wait_for_pages (window);
  {
    g_autoptr (TakesTake) stored = takes_store_get_take (store, id, NULL);
    g_autoptr (TakesTake) card = g_list_model_get_item (G_LIST_MODEL (list), 0);
    TakesTake *shown = takes_inspector_get_take (inspector);

    g_assert_cmpuint (takes_take_get_rating (stored), ==, 3);
    g_assert_true (takes_take_has_tag (stored, "keeper"));
    /* ...which replaces the card in place, without reloading the gallery. */
    g_assert_cmpint (takes_take_get_id (card), ==, id);
    g_assert_cmpuint (takes_take_get_rating (card), ==, 3);
    g_assert_true (takes_take_has_tag (card, "keeper"));
    g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads);
    g_assert_cmpint (takes_take_get_id (shown), ==, id);
    g_assert_cmpuint (takes_take_get_rating (shown), ==, 3);
  }
  /* Clicking the rating shown again clears it. */
  star = find_inspector_widget (GTK_WIDGET (inspector), 3);
  g_signal_emit_by_name (star, "clicked");
  wait_for_pages (window);
  {
    g_autoptr (TakesTake) stored = takes_store_get_take (store, id, NULL);

    g_assert_cmpuint (takes_take_get_rating (stored), ==, 0);
  }
  close_window (window);
}

static void
test_window_optimizer_accept_changes_prompt (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("optimizer");
  TakesWindow *window = open_window (store);
  TakesPromptEditor *editor = takes_window_get_editor (window);
  TakesOptimizerPanel *panel = takes_prompt_editor_get_optimizer_panel (editor);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  takes_prompt_editor_set_prompt (editor, "a cat sits on a wall");
  takes_prompt_editor_show_assistant (editor, TRUE);
  app_test_wait_frames (GTK_WIDGET (window), 3);
  g_assert_cmpuint (takes_optimizer_panel_get_n_suggestions (panel), >, 0);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-assistant"));

  before = takes_prompt_editor_get_prompt (editor);
  g_assert_true (takes_optimizer_panel_accept (panel, 0));
  after = takes_prompt_editor_get_prompt (editor);
  g_assert_cmpstr (before, !=, after);
  g_assert_nonnull (strstr (after, "cat"));
  g_assert_cmpstr (takes_optimizer_panel_get_original (panel), ==, "a cat sits on a wall");

  /* A rejected suggestion leaves the prompt alone and leaves the list. */
  {
    guint n = takes_optimizer_panel_get_n_suggestions (panel);
    g_autofree char *unchanged = NULL;

    if (n > 0)
      {
        g_assert_true (takes_optimizer_panel_reject (panel, 0));
        g_assert_cmpuint (takes_optimizer_panel_get_n_suggestions (panel), ==, n - 1);
        unchanged = takes_prompt_editor_get_prompt (editor);
        g_assert_cmpstr (unchanged, ==, after);
      }
  }
  close_window (window);
}

static void
test_window_bulk_actions_change_every_selected_take (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("bulk");
  TakesWindow *window;
  TakesGallery *gallery;
  TakesTakeList *list;
  g_autoptr (GArray) ids = NULL;
  guint64 left = 0;
  TakesTakeQuery all;

  app_test_fill_store (store, 40);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  list = takes_gallery_get_list (gallery);
  takes_take_list_set_tag (list, "hero");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 6);
  wait_for_pages (window);
  takes_gallery_select_all (gallery);
  ids = takes_gallery_get_selected_ids (gallery);
  g_assert_cmpuint (ids->len, ==, 6);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (gallery), "gallery.rate", "u", 4));
  /* The cards show the rating at once, before the writer has stored it. */
  {
    guint cards = 0;
    guint rated = 0;

    count_cards_with_rating (GTK_WIDGET (gallery), "★★★★", &cards, &rated);
    g_assert_cmpuint (cards, >, 1);
    g_assert_cmpuint (rated, ==, cards);
    g_assert_true (takes_take_list_get_busy (list));
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (gallery), "gallery.reject", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (gallery), "gallery.add-tag", "s", "campaign"));
  /* The edits are stored on the list's writer thread; the takes read back
   * replace the old ones in place, and stay selected. */
  wait_for_pages (window);
  {
    g_autoptr (GArray) still = takes_gallery_get_selected_ids (gallery);

    g_assert_cmpuint (still->len, ==, 6);
    for (guint i = 0; i < still->len; i++)
      g_assert_cmpint (g_array_index (still, gint64, i), ==, g_array_index (ids, gint64, i));
  }
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (TakesTake) take = takes_store_get_take (store, g_array_index (ids, gint64, i), NULL);

      g_assert_cmpuint (takes_take_get_rating (take), ==, 4);
      g_assert_cmpint (takes_take_get_decision (take), ==, TAKES_DECISION_REJECTED);
      g_assert_true (takes_take_has_tag (take, "campaign"));
    }

  /* Delete waits for the undo toast; closing the window lets it go ahead,
   * on the list's writer, which the delete keeps alive. */
  takes_gallery_select_all (gallery);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (gallery), "gallery.delete", NULL));
  takes_take_query_init (&all);
  g_assert_true (takes_store_count_takes (store, &all, &left, NULL));
  g_assert_cmpuint (left, ==, 40);
  g_object_ref (list);
  close_window (window);
  while (takes_take_list_get_busy (list))
    g_main_context_iteration (NULL, TRUE);
  app_test_wait (20);
  g_assert_finalize_object (list);
  g_assert_true (takes_store_count_takes (store, &all, &left, NULL));
  g_assert_cmpuint (left, ==, 34);
}

/* The button of the toast on screen whose label or icon is @name. */
static GtkButton *
find_toast_button (GtkWidget *widget, const char *name, gboolean in_toast)
{
  in_toast = in_toast || g_str_equal (G_OBJECT_TYPE_NAME (widget), "AdwToastWidget");
  if (in_toast && GTK_IS_BUTTON (widget)
      && (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), name) == 0
          || g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (widget)), name) == 0))
    return GTK_BUTTON (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkButton *found = find_toast_button (child, name, in_toast);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static guint64
count_all_takes (TakesStore *store)
{
  TakesTakeQuery all;
  guint64 n = 0;

  takes_take_query_init (&all);
  g_assert_true (takes_store_count_takes (store, &all, &n, NULL));
  return n;
}

/* Selects the take at @position and asks to delete it: the toast comes,
 * and the take stays in the library while it is up. */
static gint64
delete_one (TakesWindow *window, guint position)
{
  TakesGallery *gallery = takes_window_get_gallery (window);
  TakesTakeList *list = takes_gallery_get_list (gallery);
  g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), position);
  gint64 id = takes_take_get_id (take);

  g_assert_cmpint (id, !=, 0);
  g_assert_true (takes_gallery_select_take (gallery, id));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (gallery), "gallery.delete", NULL));
  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_assert_false (takes_take_list_get_busy (list));
  return id;
}

static void
test_window_delete_after_the_toast_goes_through_the_worker (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("delete-expired");
  TakesWindow *window;
  TakesTakeList *list;
  GtkButton *close;
  gint64 id;

  app_test_fill_store (store, 12);
  window = open_window (store);
  list = takes_gallery_get_list (takes_window_get_gallery (window));
  id = delete_one (window, 3);
  g_assert_cmpuint (count_all_takes (store), ==, 12);

  /* The toast leaves without Undo: the delete is queued on the writer, and
   * the main thread goes on before the library has changed. */
  close = find_toast_button (GTK_WIDGET (window), "window-close-symbolic", FALSE);
  g_assert_nonnull (close);
  g_signal_emit_by_name (close, "clicked");
  g_assert_true (takes_take_list_get_busy (list));
  wait_for_pages (window);
  app_test_wait_frames (GTK_WIDGET (window), 2);

  g_assert_cmpuint (count_all_takes (store), ==, 11);
  g_assert_null (takes_store_get_take (store, id, NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 11);
  g_assert_cmpint (takes_take_list_find_cached (list, id), ==, -1);
  g_assert_null (takes_take_list_get_error (list));
  {
    guint cards = 0, placeholders = 0;

    count_cards (GTK_WIDGET (takes_window_get_gallery (window)), &cards, &placeholders);
    g_assert_cmpuint (cards, >, 0);
    g_assert_cmpuint (cards, <=, 11);
    g_assert_cmpuint (placeholders, ==, 0);
  }
  close_window (window);
}

static void
test_window_delete_undone_keeps_the_takes (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("delete-undone");
  TakesWindow *window;
  TakesTakeList *list;
  GtkButton *undo;
  gint64 id;
  guint reads;

  app_test_fill_store (store, 12);
  window = open_window (store);
  list = takes_gallery_get_list (takes_window_get_gallery (window));
  id = delete_one (window, 5);
  reads = takes_take_list_get_n_page_reads (list);

  undo = find_toast_button (GTK_WIDGET (window), _ ("_Undo"), FALSE);
  g_assert_nonnull (undo);
  g_signal_emit_by_name (undo, "clicked");
  g_assert_false (takes_take_list_get_busy (list));
  app_test_wait_frames (GTK_WIDGET (window), 2);

  g_assert_cmpuint (count_all_takes (store), ==, 12);
  {
    g_autoptr (TakesTake) kept = takes_store_get_take (store, id, NULL);

    g_assert_nonnull (kept);
  }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 12);
  g_assert_cmpint (takes_take_list_find_cached (list, id), ==, 5);
  /* Nothing was written, so nothing was read again. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads);
  close_window (window);
  g_assert_cmpuint (count_all_takes (store), ==, 12);
}

static void
test_window_compare_opens_on_two_selected_takes (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("compare");
  g_autoptr (TakesBatch) batch = NULL;
  g_autoptr (GError) error = NULL;
  TakesWindow *window;
  TakesGallery *gallery;
  TakesCompareView *view;
  gint64 a, b;

  batch = takes_store_create_batch (store, takes_store_get_default_project (store), "pair", "a lighthouse",
                                    NULL, &error);
  g_assert_no_error (error);
  a = player_test_add_take (store, app_test_root, "lighthouse at dusk", batch->id);
  b = player_test_add_take (store, app_test_root, "lighthouse at dawn", batch->id);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  view = takes_window_get_compare_view (window);
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "library");

  /* One take is not a comparison: Compare stays off. */
  g_assert_true (takes_gallery_select_take (gallery, a));
  g_assert_cmpuint (takes_gallery_get_n_selected (gallery), ==, 1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL);
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "library");
  g_assert_cmpuint (takes_compare_view_get_n_takes (view), ==, 0);

  takes_gallery_select_all (gallery);
  g_assert_cmpuint (takes_gallery_get_n_selected (gallery), ==, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "compare");
  g_assert_cmpuint (takes_compare_view_get_n_takes (view), ==, 2);
  {
    gint64 first = takes_compare_view_get_take_id (view, 0);
    gint64 second = takes_compare_view_get_take_id (view, 1);

    g_assert_true ((first == a && second == b) || (first == b && second == a));
  }
  /* Both takes came from one batch, so "compare next pair" can follow it. */
  g_assert_cmpint (takes_compare_view_get_batch (view), ==, batch->id);
  app_test_wait_frames (GTK_WIDGET (window), 3);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-compare"));

  /* Back in the library, the compare player stops. */
  takes_window_set_visible_view (window, "library");
  g_assert_cmpint (takes_player_get_state (takes_compare_view_get_player (view)), !=,
                   TAKES_PLAYER_STATE_PLAYING);

  /* One take of a batch is enough to judge the batch pair by pair. */
  g_assert_true (takes_gallery_select_take (gallery, b));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare-batch", NULL));
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "compare");
  g_assert_cmpuint (takes_compare_view_get_n_takes (view), ==, 2);
  takes_window_set_visible_view (window, "library");
  close_window (window);
}

/* Closing from the title bar saves the window's state; destroying does not. */
static void
close_like_a_person (TakesWindow *window)
{
  gtk_window_close (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

static void
test_window_remembers_its_view (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("remember");
  TakesWindow *window = open_window (store);

  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "library");
  takes_window_set_visible_view (window, "storyboard");
  close_like_a_person (window);
  window = open_window (store);
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "storyboard");
  /* Compare needs takes chosen there, so it is never where a window opens. */
  takes_window_set_visible_view (window, "compare");
  close_like_a_person (window);
  window = open_window (store);
  g_assert_cmpstr (takes_window_get_visible_view (window), ==, "library");
  close_like_a_person (window);
}

/* The first widget under @root with a controller of @type, depth first. */
static GtkEventController *
find_controller (GtkWidget *root, GType type, const char *css_class)
{
  if (css_class == NULL || gtk_widget_has_css_class (root, css_class))
    {
      g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (root);

      for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
        {
          g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

          if (G_TYPE_CHECK_INSTANCE_TYPE (controller, type))
            return GTK_EVENT_CONTROLLER (controller);
        }
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkEventController *found = find_controller (child, type, css_class);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_window_take_dragged_onto_a_shot_is_chosen (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("drag");
  g_autoptr (TakesShot) shot = NULL;
  g_autoptr (TakesShot) stored = NULL;
  g_autoptr (GdkContentProvider) content = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GValue) value = G_VALUE_INIT;
  TakesWindow *window;
  TakesStoryboardPage *page;
  GtkEventController *source, *target;
  gboolean accepted = FALSE;
  gint64 take_id;

  take_id = player_test_add_take (store, app_test_root, "a harbour at night", 0);
  shot = takes_store_create_shot (store, takes_store_get_default_project (store), "Harbour", "boats", &error);
  g_assert_no_error (error);
  window = open_window (store);
  page = takes_window_get_storyboard_page (window);
  g_assert_cmpuint (takes_storyboard_page_get_n_shots (page), ==, 1);
  g_assert_cmpint (takes_storyboard_page_get_chosen_take (page, 0), ==, 0);

  /* The gallery's card offers its take id… */
  source
      = find_controller (GTK_WIDGET (takes_window_get_gallery (window)), GTK_TYPE_DRAG_SOURCE, "take-card");
  g_assert_nonnull (source);
  g_signal_emit_by_name (source, "prepare", 10.0, 10.0, &content);
  g_assert_nonnull (content);
  g_value_init (&value, G_TYPE_INT64);
  g_assert_true (gdk_content_provider_get_value (content, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int64 (&value), ==, take_id);

  /* …and the shot's drop target takes it. */
  takes_window_set_visible_view (window, "storyboard");
  app_test_wait_frames (GTK_WIDGET (window), 2);
  target = find_controller (GTK_WIDGET (page), GTK_TYPE_DROP_TARGET, NULL);
  g_assert_nonnull (target);
  g_signal_emit_by_name (target, "drop", &value, 20.0, 20.0, &accepted);
  g_assert_true (accepted);
  g_assert_cmpint (takes_storyboard_page_get_chosen_take (page, 0), ==, take_id);
  stored = takes_store_get_shot (store, shot->id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->chosen_take_id, ==, take_id);
  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-storyboard"));
  /* The window remembers its view; the next tests start in the library. */
  takes_window_set_visible_view (window, "library");
  close_window (window);
}

static void
test_window_gallery_backend_filter (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("backend");
  TakesWindow *window;
  TakesGallery *gallery;
  TakesTakeList *list;
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  static const char *const backends[] = { "local", "dashscope", "local" };

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
      TakesTake *take;

      takes_recipe_set_prompt (recipe, "a kite over a beach");
      takes_recipe_set_backend (recipe, backends[i]);
      take = takes_take_new (recipe);
      takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
      g_ptr_array_add (takes, take);
    }
  g_assert_true (takes_store_add_takes (store, takes, &error));
  g_assert_no_error (error);
  window = open_window (store);
  gallery = takes_window_get_gallery (window);
  list = takes_gallery_get_list (gallery);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  takes_gallery_set_backend (gallery, "dashscope");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  takes_gallery_set_backend (gallery, "local");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  takes_gallery_set_backend (gallery, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  close_window (window);
}

/* The main views in Chinese, for the translator and for checking that CJK
 * text fits; strings not yet in the catalogue stay English. */
static void
test_window_screenshots_in_chinese (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("chinese");
  g_autofree char *old_language = g_strdup (g_getenv ("LANGUAGE"));
  TakesWindow *window;

  app_test_fill_store (store, 24);
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  /* glibc rereads LANGUAGE only after the locale is set again. */
  setlocale (LC_ALL, "");
  window = open_window (store);
  takes_prompt_editor_set_prompt (takes_window_get_editor (window), "一只猫在窗台上晒太阳，{时间}");
  {
    g_autoptr (TakesTake) first = g_list_model_get_item (
        G_LIST_MODEL (takes_gallery_get_list (takes_window_get_gallery (window))), 0);
    takes_gallery_select_take (takes_window_get_gallery (window), takes_take_get_id (first));
  }
  app_test_wait_frames (GTK_WIDGET (window), 3);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-zh_CN"));
  takes_prompt_editor_show_assistant (takes_window_get_editor (window), TRUE);
  app_test_wait_frames (GTK_WIDGET (window), 3);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-assistant-zh_CN"));
  close_window (window);

  if (old_language != NULL)
    g_setenv ("LANGUAGE", old_language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "");
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/window/open/empty-library", test_window_opens_empty);
  g_test_add_func ("/window/open/ten-thousand-takes-reads-only-visible-pages",
                   test_window_opens_large_library);
  g_test_add_func ("/window/gallery/scrolling-fills-placeholder-cards",
                   test_window_scrolling_fills_placeholders);
  g_test_add_func ("/window/gallery/filters-and-search-narrow-the-grid",
                   test_window_filters_and_search_narrow);
  g_test_add_func ("/window/gallery/selection-shows-the-inspector", test_window_selection_shows_inspector);
  g_test_add_func ("/window/inspector/edits-in-the-background",
                   test_window_inspector_edits_in_the_background);
  g_test_add_func ("/window/optimizer/accepted-suggestion-changes-the-prompt",
                   test_window_optimizer_accept_changes_prompt);
  g_test_add_func ("/window/gallery/bulk-actions-change-every-selected-take",
                   test_window_bulk_actions_change_every_selected_take);
  g_test_add_func ("/window/gallery/delete-after-the-toast-goes-through-the-worker",
                   test_window_delete_after_the_toast_goes_through_the_worker);
  g_test_add_func ("/window/gallery/delete-undone-keeps-the-takes",
                   test_window_delete_undone_keeps_the_takes);
  g_test_add_func ("/window/compare/opens-on-two-selected-takes",
                   test_window_compare_opens_on_two_selected_takes);
  g_test_add_func ("/window/storyboard/take-dragged-onto-a-shot-is-chosen",
                   test_window_take_dragged_onto_a_shot_is_chosen);
  g_test_add_func ("/window/gallery/backend-filter", test_window_gallery_backend_filter);
  g_test_add_func ("/window/views/remembered-at-the-next-start", test_window_remembers_its_view);
  g_test_add_func ("/window/screenshots/chinese", test_window_screenshots_in_chinese);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
