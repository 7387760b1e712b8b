import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { MessagesProvider } from './components/MessagesProvider';
import { SettingsProvider } from './hooks/SettingsProvider';
import './styles/app.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <MessagesProvider>
      <SettingsProvider>
        <App />
      </SettingsProvider>
    </MessagesProvider>
  </StrictMode>,
);
