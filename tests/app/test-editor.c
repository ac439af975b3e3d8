/* test-editor.c: the prompt editor: variables and the campaign preview,
 * inline safety blocks, parameters a backend does not take, undo, and
 * Generate queueing takes that then show in the gallery. */
#include "config.h"

#include "app-test-util.h"
#include "takes-backend-dashscope.h"
#include "takes-prompt-editor.h"
#include "takes-window.h"

static TakesPromptEditor *
new_editor (void)
{
  TakesPromptEditor *editor = g_object_ref_sink (TAKES_PROMPT_EDITOR (takes_prompt_editor_new ()));

  return editor;
}

static void
test_editor_variables_make_a_campaign (void)
{
  TakesPromptEditor *editor = new_editor ();
  const char *drinks[] = { "tea", "coffee", NULL };
  const char *cities[] = { "Paris", "Tokyo", "Rome", NULL };
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) prompts = g_hash_table_new (g_str_hash, g_str_equal);

  takes_prompt_editor_set_prompt (editor, "A {drink} ad in {city}, morning light");
  /* A variable without values is an error the preview names. */
  g_assert_cmpuint (takes_prompt_editor_get_n_takes (editor), ==, 0);

  takes_prompt_editor_set_variable_values (editor, "drink", drinks);
  takes_prompt_editor_set_variable_values (editor, "city", cities);
  g_assert_cmpuint (takes_prompt_editor_get_n_takes (editor), ==, 6);

  takes = takes_prompt_editor_build_takes (editor, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes->len, ==, 6);
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = g_ptr_array_index (takes, i);
      const char *prompt = takes_recipe_get_prompt (takes_take_get_recipe (take));

      g_assert_null (strchr (prompt, '{'));
      g_assert_true (g_str_has_suffix (prompt, ", morning light"));
      g_assert_nonnull (takes_take_get_variables (take));
      g_hash_table_add (prompts, (gpointer)prompt);
    }
  g_assert_cmpuint (g_hash_table_size (prompts), ==, 6);

  g_assert_finalize_object (editor);
}

static void
test_editor_blocked_prompt_flagged_before_queueing (void)
{
  TakesPromptEditor *editor = new_editor ();
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;

  takes_prompt_editor_set_prompt (editor, "a jailbait dancing on a table");
  takes = takes_prompt_editor_build_takes (editor, 0, &error);
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
  g_assert_null (takes);
  g_clear_error (&error);

  /* The same check runs on each expanded variant of a template. */
  {
    const char *who[] = { "a dancer", "jailbait", NULL };

    takes_prompt_editor_set_prompt (editor, "{who} on a stage");
    takes_prompt_editor_set_variable_values (editor, "who", who);
    takes = takes_prompt_editor_build_takes (editor, 0, &error);
    g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
    g_assert_null (takes);
  }
  g_assert_finalize_object (editor);
}

static void
test_editor_unsupported_parameters_disabled (void)
{
  TakesPromptEditor *editor = new_editor ();
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendDashscope) dashscope = takes_backend_dashscope_new ("singapore", &error);
  g_autoptr (GPtrArray) backends = g_ptr_array_new ();
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autofree char *why = NULL;

  g_assert_no_error (error);
  g_ptr_array_add (backends, dashscope);
  takes_prompt_editor_set_backends (editor, backends);
  takes_recipe_set_backend (recipe, "dashscope");
  takes_recipe_set_model (recipe, "wan2.2-t2v-plus");
  takes_recipe_set_prompt (recipe, "a kite over a beach");
  takes_prompt_editor_load_recipe (editor, recipe, 0);

  /* DashScope makes clips of whole seconds at its own frame rate, and picks
   * its own sampling. */
  g_assert_false (takes_prompt_editor_is_parameter_supported (editor, "fps", &why));
  g_assert_nonnull (why);
  g_clear_pointer (&why, g_free);
  {
    g_autoptr (TakesRecipe) chosen = takes_prompt_editor_get_recipe (editor);
    g_autoptr (GError) invalid = NULL;

    g_assert_true (takes_recipe_validate (chosen, &invalid));
    g_assert_no_error (invalid);
    g_assert_true (takes_backend_validate (TAKES_BACKEND (dashscope), chosen, &invalid));
    g_assert_no_error (invalid);
  }
  g_assert_false (takes_prompt_editor_is_parameter_supported (editor, "steps", &why));
  g_assert_nonnull (why);
  g_clear_pointer (&why, g_free);
  g_assert_true (takes_prompt_editor_is_parameter_supported (editor, "negative-prompt", &why));
  g_assert_null (why);

  /* Without capabilities nothing is ruled out. */
  takes_prompt_editor_set_backends (editor, NULL);
  g_assert_true (takes_prompt_editor_is_parameter_supported (editor, "frames", NULL));
  g_assert_true (takes_prompt_editor_is_parameter_supported (editor, "steps", NULL));

  g_assert_finalize_object (editor);
}

static void
test_editor_generate_again_keeps_the_parent (void)
{
  TakesPromptEditor *editor = new_editor ();
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;
  TakesRecipe *made;

  takes_recipe_set_prompt (recipe, "a lighthouse in a storm");
  takes_recipe_set_width (recipe, 480);
  takes_recipe_set_height (recipe, 832);
  takes_recipe_set_frames (recipe, 33);
  takes_recipe_set_steps (recipe, 20);
  takes_recipe_set_seed (recipe, 1234);
  takes_prompt_editor_load_recipe (editor, recipe, 42);

  takes = takes_prompt_editor_build_takes (editor, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes->len, ==, 1);
  g_assert_cmpint (takes_take_get_parent_id (g_ptr_array_index (takes, 0)), ==, 42);
  made = takes_take_get_recipe (g_ptr_array_index (takes, 0));
  g_assert_cmpstr (takes_recipe_get_prompt (made), ==, "a lighthouse in a storm");
  g_assert_cmpuint (takes_recipe_get_width (made), ==, 480);
  g_assert_cmpuint (takes_recipe_get_height (made), ==, 832);
  g_assert_cmpuint (takes_recipe_get_frames (made), ==, 33);
  g_assert_cmpuint (takes_recipe_get_steps (made), ==, 20);

  g_assert_finalize_object (editor);
}

static void
test_editor_prompt_typing_can_be_undone (void)
{
  TakesPromptEditor *editor = new_editor ();
  GtkTextBuffer *buffer = takes_prompt_editor_get_prompt_buffer (editor);
  GtkTextIter end;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  takes_prompt_editor_set_prompt (editor, "a fox");
  before = takes_prompt_editor_get_prompt (editor);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_insert (buffer, &end, " in the snow", -1);
  gtk_text_buffer_end_user_action (buffer);
  g_assert_true (gtk_text_buffer_get_can_undo (buffer));
  gtk_text_buffer_undo (buffer);
  after = takes_prompt_editor_get_prompt (editor);
  g_assert_cmpstr (before, ==, after);

  g_assert_finalize_object (editor);
}

static void
test_editor_generate_queues_takes_shown_in_gallery (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("generate");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesQueue) queue = takes_queue_new (store, &error);
  g_autoptr (TakesBackendDashscope) dashscope = NULL;
  TakesWindow *window;
  TakesPromptEditor *editor;
  TakesTakeList *list;
  const char *shots[] = { "wide", "close-up", NULL };
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();

  g_assert_no_error (error);
  /* The queue is never started, so nothing is sent: the takes wait, queued. */
  dashscope = takes_backend_dashscope_new ("singapore", &error);
  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (dashscope, "http://127.0.0.1:9/api/v1");
  takes_queue_add_backend (queue, TAKES_BACKEND (dashscope));

  window = g_object_ref (takes_window_new (NULL, store, queue));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_frames (GTK_WIDGET (window), 2);

  editor = takes_window_get_editor (window);
  takes_recipe_set_backend (recipe, "dashscope");
  takes_recipe_set_model (recipe, "wan2.2-t2v-plus");
  takes_prompt_editor_load_recipe (editor, recipe, 0);
  takes_prompt_editor_set_prompt (editor, "a {shot} of a tea cup on a wooden table");
  takes_prompt_editor_set_variable_values (editor, "shot", shots);
  g_assert_cmpuint (takes_prompt_editor_get_n_takes (editor), ==, 2);
  app_test_wait_frames (GTK_WIDGET (window), 2);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.generate", NULL));
  list = takes_gallery_get_list (takes_window_get_gallery (window));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), i);
      g_assert_cmpint (takes_take_get_status (take), ==, TAKES_TAKE_STATUS_QUEUED);
    }
  g_assert_cmpuint (takes_queue_get_n_active (queue), ==, 2);
  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-queued"));

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/editor/variables/make-a-campaign", test_editor_variables_make_a_campaign);
  g_test_add_func ("/editor/safety/blocked-prompt-flagged-before-queueing",
                   test_editor_blocked_prompt_flagged_before_queueing);
  g_test_add_func ("/editor/capabilities/unsupported-parameters-disabled-with-reason",
                   test_editor_unsupported_parameters_disabled);
  g_test_add_func ("/editor/generate-again/keeps-recipe-and-parent",
                   test_editor_generate_again_keeps_the_parent);
  g_test_add_func ("/editor/prompt/typing-can-be-undone", test_editor_prompt_typing_can_be_undone);
  g_test_add_func ("/editor/generate/queues-takes-shown-in-gallery",
                   test_editor_generate_queues_takes_shown_in_gallery);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
